// The reason catalogue (core/reasons.ts): what a user and a reviewer are told for each reason code. Server-free.
import assert from 'node:assert/strict';
import { LOCALES, REASON_CODES } from '../core/model';
import { REASONS } from '../core/reasons';

const CJK = /[\u4e00-\u9fff]/;

describe('reason catalogue', () => {
  it('lists exactly the reason codes, each with a user text, a next step and reviewer guidance in every locale', () => {
    assert.deepEqual(Object.keys(REASONS).sort(), [...REASON_CODES].sort());
    for (const code of REASON_CODES) {
      const r = REASONS[code];
      assert.deepEqual(Object.keys(r.user).sort(), [...LOCALES].sort(), code);
      assert.deepEqual(Object.keys(r.nextStep).sort(), [...LOCALES].sort(), code);
      for (const locale of LOCALES) {
        assert.ok(r.user[locale].trim().length >= 8, `${code} user ${locale}`);
        assert.ok(r.nextStep[locale].trim().length >= 8, `${code} next step ${locale}`);
      }
      assert.deepEqual(Object.keys(r.reviewer).sort(), [...LOCALES].sort(), code);
      for (const locale of LOCALES)
        assert.ok(r.reviewer[locale].trim().length >= 8, `${code} reviewer ${locale}`);
      assert.ok(r.reviewer.en.trim().length >= 20, `${code} reviewer`);
    }
  });

  it('each text is in its own language: Chinese for zh-CN, none in English', () => {
    for (const code of REASON_CODES) {
      const r = REASONS[code];
      assert.match(r.user['zh-CN'], CJK, code);
      assert.match(r.nextStep['zh-CN'], CJK, code);
      assert.doesNotMatch(r.user.en, CJK, code);
      assert.doesNotMatch(r.nextStep.en, CJK, code);
      assert.match(r.reviewer['zh-CN'], CJK, code);
      assert.doesNotMatch(r.reviewer.en, CJK, code);
    }
  });

  it('no two reasons tell the user or the reviewer the same thing', () => {
    for (const pick of [
      (c: (typeof REASON_CODES)[number]) => REASONS[c].user.en,
      (c: (typeof REASON_CODES)[number]) => REASONS[c].user['zh-CN'],
      (c: (typeof REASON_CODES)[number]) => REASONS[c].reviewer.en,
      (c: (typeof REASON_CODES)[number]) => REASONS[c].reviewer['zh-CN'],
    ]) {
      const texts = REASON_CODES.map(pick);
      assert.equal(new Set(texts).size, texts.length);
    }
  });

  it('the user is never shown thresholds, scores or rule names', () => {
    for (const code of REASON_CODES)
      for (const locale of LOCALES) {
        const text = REASONS[code].user[locale] + REASONS[code].nextStep[locale];
        assert.doesNotMatch(text, /\d/, `${code} ${locale}`);
        assert.doesNotMatch(text, /score|threshold|rule|[A-Z]{3,}_[A-Z]/, `${code} ${locale}`);
      }
  });
});
