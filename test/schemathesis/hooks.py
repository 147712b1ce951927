"""Schemathesis hooks for Cordon's API (named in test/schemathesis/schemathesis.toml).

A rule that JSON Schema cannot state is said in words in the OpenAPI document, and the API refuses what breaks
it. Schemathesis's positive_data_acceptance check (ST202) then sends schema-valid requests that the API rightly
refuses. Only those refusals are dropped, each recognised by its problem code, field path and, where the path is
shared with rules the schema does state, its message: any other refusal of schema-valid data still fails.
"""

import schemathesis

# Relative to now: an event may be at most CORDON_EVENT_MAX_FUTURE_S ahead of the server's clock.
FUTURE_EVENT = ("OCCURRED_IN_FUTURE", "body.occurredAt", None)
# Between two query parameters (and now, their default): a report's window runs forwards, ten years at most.
WINDOW_ORDER = ("VALIDATION_FAILED", "query.from", "`from` must be before `to`")
WINDOW_LENGTH = ("VALIDATION_FAILED", "query.from", "the window is at most ten years")
# A bulk action's selector names at least one field, and its opening window runs forwards (said in its description).
BULK_SELECTOR_EMPTY = (
    "VALIDATION_FAILED",
    "body.selector",
    "name at least one of rule, reasonCode, policyVersion, status, openedFrom, openedTo",
)
BULK_WINDOW_ORDER = ("VALIDATION_FAILED", "body.selector.openedTo", "openedFrom must be before openedTo")
UNSTATABLE = (FUTURE_EVENT, WINDOW_ORDER, WINDOW_LENGTH, BULK_SELECTOR_EMPTY, BULK_WINDOW_ORDER)


def _unstatable(code, error):
    return any(
        code == rule_code and error.get("path") == path and (message is None or error.get("message") == message)
        for rule_code, path, message in UNSTATABLE
    )


# Cordon's answer to overload (a busy or unreachable case engine): 503 with Retry-After and one of these codes,
# after waiting at most CORDON_TEMPORAL_CALL_MS (20 s). It is the promised answer ("overload may make Cordon
# slow; never a 500"), so a machine whose cores are busy may see it: only exactly that answer is let through.
OVERLOAD_CODES = ("TEMPORAL_BUSY", "TEMPORAL_UNAVAILABLE")


def _problem(response):
    try:
        body = response.json()
    except Exception:
        return None
    return body if isinstance(body, dict) else None


def _overload_answer(response):
    problem = _problem(response)
    return (
        response.status_code == 503
        and bool(response.headers.get("retry-after"))
        and problem is not None
        and problem.get("code") in OVERLOAD_CODES
        and problem.get("status") == 503
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but a 400 whose every field error is one of the rules above, and the overload answer."""
    if failure.code == "ST101" and _overload_answer(response):
        return False
    if failure.code != "ST202" or response.status_code != 400:
        return True
    try:
        problem = response.json()
    except Exception:
        return True
    errors = (problem.get("errors") or []) if isinstance(problem, dict) else []
    return not (errors and all(_unstatable(problem.get("code"), e) for e in errors))
