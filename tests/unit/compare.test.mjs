// The comparison rule (www/compare.js) against closed forms: a tie within noise, a real
// difference, a share of 200 samples (binomial, Wilson near 1), paired draws, the floor and
// ratios of figures within noise of 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  meanSe, compare, comparePaired, share, atFloor, ratioMeaningful, relation, critical, Z,
} from '../../www/compare.js';

test('meanSe: the sample standard deviation over sqrt(n)', () => {
  // 1, 2, 3, 4: mean 2.5, sample variance 5/3, se sqrt(5/3 / 4).
  const m = meanSe([1, 2, 3, 4]);
  assert.equal(m.mean, 2.5);
  assert.equal(m.df, 3);
  assert.ok(Math.abs(m.se - Math.sqrt(5 / 12)) < 1e-12);
  assert.ok(Number.isNaN(meanSe([3]).se));
});

test('a tie within noise: 0.181 and 0.2 with se 0.036/2 each are equal', () => {
  const v = compare({ mean: 0.181, se: 0.018 }, { mean: 0.2, se: 0.018 });
  assert.equal(v.verdict, 'equal');
  assert.ok(Math.abs(v.noise - Z * Math.hypot(0.018, 0.018)) < 1e-12);
  assert.match(relation(v), /^equal within sampling noise \(± 0\.051\) to$/);
});

test('a real difference: beyond 2 sqrt(se_a^2 + se_b^2), in both directions', () => {
  // noise = 2 * hypot(0.03, 0.04) = 0.1: a difference of 0.11 counts, 0.09 does not.
  assert.equal(compare({ mean: 1, se: 0.03 }, { mean: 1.11, se: 0.04 }).verdict, 'lower');
  assert.equal(compare({ mean: 1.11, se: 0.03 }, { mean: 1, se: 0.04 }).verdict, 'higher');
  assert.equal(compare({ mean: 1, se: 0.03 }, { mean: 1.09, se: 0.04 }).verdict, 'equal');
  assert.match(relation(compare({ mean: 1, se: 0.03 }, { mean: 1.11, se: 0.04 })), /^lower \(by 0\.11 ± 0\.1\) than$/);
});

test('the binomial case at 200 samples: 97 % has se 1.2 %, so 97 % and 98.5 % are equal', () => {
  const a = share(194, 200);
  assert.ok(Math.abs(a.se - Math.sqrt(0.97 * 0.03 / 200)) < 1e-12);
  assert.ok(Math.abs(a.se - 0.012) < 0.0005);
  const b = share(197, 200);
  assert.equal(compare(b, a).verdict, 'equal');
  // 200 of 200: the Wilson interval keeps a spread (the plain formula would give 0).
  const all = share(200, 200);
  assert.equal(all.mean, 1);
  assert.ok(all.se > 0.003 && all.se < 0.02, `Wilson se at 200/200: ${all.se}`);
  assert.ok(all.lo > 0.97 && all.lo < 0.99 && all.hi === 1);
  assert.equal(compare(all, share(197, 200)).verdict, 'equal');
  // 50 % against 97 % at 200 each: a real difference.
  assert.equal(compare(share(100, 200), a).verdict, 'lower');
});

test('the paired case: a steady small shift is found, the same shift unpaired is not', () => {
  const a = [0.20, 0.25, 0.18, 0.23];
  const b = a.map((v, i) => v + 0.01 + 0.001 * (i % 2));
  const paired = comparePaired(a, b);
  assert.equal(paired.verdict, 'lower');
  assert.ok(Math.abs(paired.diff + 0.0105) < 1e-12);
  assert.equal(compare(meanSe(a), meanSe(b)).verdict, 'equal');
  // Differences that change sign: equal within noise.
  assert.equal(comparePaired([1, 2, 3, 4], [1.1, 1.9, 3.1, 3.9]).verdict, 'equal');
});

test('the floor: a distance not above the floor by the rule is at the floor', () => {
  const floor = { mean: 0.181, se: 0.036 };
  assert.ok(atFloor({ mean: 0.2, se: 0.01 }, floor));
  assert.ok(atFloor({ mean: 0.15, se: 0.01 }, floor));
  assert.ok(!atFloor({ mean: 0.4, se: 0.02 }, floor));
});

test('no ratio of two figures both within noise of 0', () => {
  assert.equal(ratioMeaningful({ mean: 0.001, se: 0.002 }, { mean: -0.002, se: 0.002 }), false);
  assert.equal(ratioMeaningful({ mean: 0.5, se: 0.01 }, { mean: 0.001, se: 0.002 }), true);
});

test('few draws: the standard error is itself estimated, so the bar is Student t, not 2', () => {
  // t quantiles at the level of 2 standard normal errors (scipy.stats.t.ppf(norm.cdf(2), df)).
  assert.equal(critical(3), 3.307);
  assert.equal(critical(30), 2.087);
  assert.ok(Math.abs(critical(1000) - 2) < 0.01);
  // Paired differences 2.5 standard errors from 0: not enough over 4 draws, enough over 31.
  const four = [0.1, 0.3, 0.5, 0.7];
  const sdFour = meanSe(four).se;
  const shift = 2.5 * sdFour;
  const b4 = four.map((v) => v - 0.4 + shift);
  assert.equal(comparePaired(b4, four.map(() => 0)).verdict, 'equal');
  const many = Array.from({ length: 31 }, (_, i) => (i % 2 ? 1 : -1));
  const se = meanSe(many).se;
  const shifted = many.map((v) => v - meanSe(many).mean + 2.5 * se);
  assert.equal(comparePaired(shifted, many.map(() => 0)).verdict, 'higher');
  // Two means of 4 draws each: t(3) times the standard error of the difference.
  const v = compare(meanSe([1, 1.1, 0.9, 1]), meanSe([1.2, 1.3, 1.1, 1.2]));
  assert.ok(Math.abs(v.noise - 3.307 * Math.hypot(meanSe([1, 1.1, 0.9, 1]).se, meanSe([1.2, 1.3, 1.1, 1.2]).se))
    < 1e-12);
  assert.equal(v.verdict, 'lower');
});
