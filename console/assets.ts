// The console's stylesheet and its one small script, served from /console/assets so the Content-Security-Policy
// can forbid inline code. The pages work without the script; it only refreshes the queue and eases the forms.
import { createHash } from 'node:crypto';

export const CSS = `
:root { --ink:#1d2430; --muted:#5b6472; --line:#d9dee5; --bg:#f6f7f9; --card:#fff; --accent:#1f5fbf;
  --danger:#b42318; --danger-bg:#fef3f2; --warn:#b54708; --warn-bg:#fffaeb; --ok:#067647; --ok-bg:#ecfdf3; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
  color:var(--ink); background:var(--bg); }
header.top { display:flex; align-items:center; gap:16px; padding:10px 20px; background:#17202e; color:#fff; }
header.top a { color:#fff; text-decoration:none; }
header.top .brand { font-weight:600; margin-right:auto; }
header.top form { margin:0; }
nav.tools { display:flex; align-items:center; gap:16px; padding:8px 20px; background:#fff; border-bottom:1px solid var(--line); }
nav.tools form.search { display:flex; gap:6px; margin:0 0 0 auto; }
nav.tools form.search input { width:260px; }
header.top button { background:transparent; color:#fff; border:1px solid #6b778a; padding:3px 10px; border-radius:4px; cursor:pointer; }
.who { color:#c5ccd6; }
main { max-width:1200px; margin:0 auto; padding:20px; }
h1 { font-size:22px; margin:0 0 6px; }
h2 { font-size:16px; margin:0 0 10px; }
.muted { color:var(--muted); }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px; margin:0 0 16px; }
.grid { display:grid; grid-template-columns: 2fr 1fr; gap:16px; align-items:start; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:7px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); font-weight:600; }
tr.escalated td { background:var(--danger-bg); }
tr.escalated td:first-child { box-shadow: inset 4px 0 0 var(--danger); }
.badge { display:inline-block; padding:1px 7px; border-radius:10px; font-size:12px; background:#eef1f5; color:var(--ink); white-space:nowrap; }
.badge.danger { background:var(--danger); color:#fff; }
.badge.tier-CLOSE, .badge.tier-FREEZE { background:#fde7e4; color:#912018; }
.badge.tier-PROTECT, .badge.tier-LIMIT { background:#fef0c7; color:#93370d; }
.badge.tier-STEP_UP { background:#e0eaff; color:#1f3a8a; }
.overdue { color:var(--danger); font-weight:600; }
code, .code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12.5px; }
dl.facts { display:grid; grid-template-columns: max-content 1fr; gap:4px 16px; margin:0; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; }
form.filters { display:flex; flex-wrap:wrap; gap:12px; align-items:end; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:3px; }
select, input[type=text], input[type=password], input[type=search], input[type=date], textarea { font:inherit; padding:6px 8px; border:1px solid #b8c0cc; border-radius:5px; background:#fff; }
textarea { width:100%; min-height:70px; }
button, .button { font:inherit; padding:6px 14px; border-radius:5px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary { background:#fff; color:var(--accent); }
button.danger { background:var(--danger); border-color:var(--danger); }
.banner.danger { border-left:4px solid var(--danger); }
.banner .guard { margin:.5rem 0; }
.notice { border-left:4px solid var(--accent, #2563eb); padding:.25rem .75rem; }
.field { margin:0 0 12px; }
.field > label, fieldset legend { display:block; font-weight:600; margin:0 0 4px; }
fieldset { border:1px solid var(--line); border-radius:6px; padding:10px 12px; margin:0 0 12px; }
.choices label { display:block; font-weight:normal; margin:2px 0; }
.field-error { color:var(--danger); font-size:13px; margin:3px 0 0; }
.alert { border-radius:6px; padding:10px 12px; margin:0 0 14px; border:1px solid; }
.alert.error { background:var(--danger-bg); border-color:#fecdca; color:#7a271a; }
.alert.ok { background:var(--ok-bg); border-color:#abefc6; color:var(--ok); }
.alert.info { background:var(--warn-bg); border-color:#fedf89; color:var(--warn); }
.alert p { margin:4px 0 0; }
.inline { display:inline; margin:0 6px 0 0; }
.quote { white-space:pre-wrap; background:#f8f9fb; border-left:3px solid var(--line); padding:8px 10px; margin:6px 0; }
.hint { font-size:12.5px; color:var(--muted); margin:4px 0 0; }
.details { font-size:12.5px; color:var(--muted); word-break:break-word; }
.details b { color:var(--ink); font-weight:600; }
.login { max-width:420px; margin:60px auto; }
.login input[type=password] { width:100%; }
.lang a { margin-left:8px; }
`;

export const SCRIPT = `
(function () {
  'use strict';
  // A region with data-refresh (the queue, a running bulk action) refreshes itself; not while the reviewer is
  // choosing a filter, nor in a hidden tab; and no more once the fresh region has no data-refresh.
  var region = document.querySelector('[data-refresh][id]');
  if (region) {
    var seconds = Number(region.getAttribute('data-refresh')) || 30;
    var timer = setInterval(function () {
      if (document.visibilityState === 'hidden') return;
      var active = document.activeElement;
      if (active && region.contains(active) && /^(SELECT|INPUT|TEXTAREA)$/.test(active.tagName)) return;
      fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        .then(function (res) {
          // Signed out or failing: a full load shows the page the server means.
          if (!res.ok || res.redirected) return void location.reload();
          return res.text().then(function (text) {
            var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById(region.id);
            if (!fresh) return;
            var adopted = document.adoptNode(fresh);
            region.replaceWith(adopted);
            region = adopted;
            if (!adopted.hasAttribute('data-refresh')) clearInterval(timer);
          });
        })
        .catch(function () {});
    }, seconds * 1000);
  }
  // Filters apply as soon as they change.
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el && el.hasAttribute && el.hasAttribute('data-autosubmit') && el.form) el.form.submit();
  });
  // The decision form: the question only for REQUEST_INFO, the explanation only for outcomes; the preset
  // explanation follows the decision until the reviewer edits it; only the outcome codes that fit the decision
  // are offered; the preview shows what the user reads.
  var form = document.getElementById('decision-form');
  if (form) {
    var text = form.querySelector('textarea[name=explanationText]');
    var code = form.querySelector('select[name=explanationCode]');
    var preview = document.getElementById('explanation-preview');
    var lastPreset = text ? text.value : '';
    var OUTCOME = { UNLOCK: 'RESTORED', UPHOLD: 'UPHELD', CLOSE: 'CLOSED' };
    var showPreview = function () {
      if (!code || !preview) return;
      var opt = code.options[code.selectedIndex];
      preview.textContent = opt ? opt.getAttribute('data-user-text') || '' : '';
    };
    var fitCodes = function (decision) {
      if (!code) return;
      var outcome = OUTCOME[decision];
      var first = null;
      for (var i = 0; i < code.options.length; i++) {
        var opt = code.options[i];
        var fits = !outcome || (opt.getAttribute('data-fits') || '').split(' ').indexOf(outcome) >= 0;
        opt.hidden = !fits;
        if (fits && first === null) first = i;
      }
      var chosen = code.options[code.selectedIndex];
      if (first !== null && (!chosen || chosen.hidden)) code.selectedIndex = first;
      showPreview();
    };
    var sync = function () {
      var chosen = form.querySelector('input[name=decision]:checked');
      var decision = chosen ? chosen.value : '';
      var q = document.getElementById('question-field');
      var x = document.getElementById('explanation-field');
      if (q) q.hidden = decision !== '' && decision !== 'REQUEST_INFO';
      if (x) x.hidden = decision === 'REQUEST_INFO';
      if (text && decision && text.value === lastPreset) {
        var preset = text.getAttribute('data-preset-' + decision.toLowerCase());
        if (preset !== null) { text.value = preset; lastPreset = preset; }
      }
      fitCodes(decision);
    };
    form.addEventListener('change', function (e) {
      if (e.target && e.target.name === 'decision') sync();
      if (e.target === code) showPreview();
    });
    sync();
  }
})();
`;

/** Changes with the assets: pages link to ?v=<version>, so browsers may cache them. */
export const ASSET_VERSION = createHash('sha256').update(CSS).update(SCRIPT).digest('hex').slice(0, 12);
