// First divergence, alternatives at the divergence point and token margins, on synthetic runs whose
// tokens and probabilities are test data (not model output), and their HTML views.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChatRun } from "../src/core/types";
import { computeMargins, findBatchDivergences, findDivergence } from "../src/analysis/divergence";
import { InvalidParameterError } from "../src/core/validate";
import { renderDivergenceHtml, renderMarginsHtml, renderPositionsSvg } from "../src/render/index";
import { RATE_LIMITED, makeRun } from "./support/runs";

/** A run whose text is its tokens joined; each token lists its candidates as [token, probability], the emitted one included. */
function tokenRun(index: number, tokens: Array<[string, Array<[string, number]>]>): ChatRun {
  const run = makeRun(index, tokens.map(([token]) => token).join(""));
  run.logprobs = tokens.map(([token, candidates]) => ({
    token,
    logprob: Math.log(candidates.find(([candidate]) => candidate === token)?.[1] ?? 0.01),
    topLogprobs: candidates.map(([candidate, probability]) => ({ token: candidate, logprob: Math.log(probability) })),
  }));
  return run;
}

const ONCE: Array<[string, Array<[string, number]>]> = [
  [
    "Once",
    [
      ["Once", 0.9],
      ["One", 0.1],
    ],
  ],
  [
    " upon",
    [
      [" upon", 0.8],
      [" there", 0.2],
    ],
  ],
  [
    " a",
    [
      [" a", 0.99],
      [" the", 0.01],
    ],
  ],
  [
    " time",
    [
      [" time", 0.5],
      [" day", 0.45],
      [" hill", 0.05],
    ],
  ],
];

test("token divergence: the index of the first differing token, its character offset, context and both runs' alternatives", () => {
  const reference = tokenRun(0, ONCE);
  const other = tokenRun(1, [
    ...ONCE.slice(0, 3),
    [
      " day",
      [
        [" time", 0.5],
        [" day", 0.45],
        [" hill", 0.05],
      ],
    ],
    [".", [[".", 1]]],
  ]);
  const divergence = findDivergence({ reference, run: other });
  assert.ok(divergence);
  assert.equal(divergence.unit, "token");
  assert.equal(divergence.position, 3);
  assert.equal(divergence.characterOffset, "Once upon a".length);
  assert.equal(divergence.before, "Once upon a");
  assert.equal(divergence.referenceAfter, " time");
  assert.equal(divergence.runAfter, " day.");
  assert.equal(divergence.referenceToken, " time");
  assert.equal(divergence.runToken, " day");
  assert.ok(Math.abs((divergence.runTokenProbability ?? 0) - 0.45) < 1e-9);
  assert.deepEqual(
    divergence.referenceAlternatives?.map((alternative) => [alternative.token, alternative.chosen]),
    [
      [" time", true],
      [" day", false],
      [" hill", false],
    ],
  );
  assert.deepEqual(
    divergence.runAlternatives?.map((alternative) => [alternative.token, alternative.chosen]),
    [
      [" time", false],
      [" day", true],
      [" hill", false],
    ],
  );
  assert.ok(Math.abs((divergence.referenceAlternatives?.[1]?.probability ?? 0) - 0.45) < 1e-9);
  assert.equal(findDivergence({ reference, run: tokenRun(2, ONCE) }), null, "equal texts do not diverge");
  // Context is cut to the length asked for.
  assert.equal(findDivergence({ reference, run: other, contextCharacters: 3 })?.before, "n a");
});

test("character divergence when a run has no logprobs, and one text a prefix of the other", () => {
  const reference = tokenRun(0, ONCE);
  const plain = makeRun(1, "Once upon a hill");
  const divergence = findDivergence({ reference, run: plain });
  assert.equal(divergence?.unit, "character");
  assert.equal(divergence?.position, "Once upon a ".length);
  assert.equal(divergence?.referenceAlternatives, null);
  assert.equal(divergence?.referenceToken, null);
  const prefix = findDivergence({ reference: makeRun(0, "abc"), run: makeRun(1, "abcdef") });
  assert.equal(prefix?.position, 3);
  assert.equal(prefix?.referenceAfter, "");
  assert.equal(prefix?.runAfter, "def");
  const fromEmpty = findDivergence({ reference: makeRun(0, ""), run: makeRun(1, "x") });
  assert.equal(fromEmpty?.position, 0);
  // Token unit where the shorter run ended: its token is null.
  const shorter = tokenRun(1, ONCE.slice(0, 2));
  const ended = findDivergence({ reference, run: shorter });
  assert.equal(ended?.unit, "token");
  assert.equal(ended?.position, 2);
  assert.equal(ended?.runToken, null);
  assert.equal(ended?.runAlternatives, null);
  assert.equal(ended?.referenceToken, " a");
});

test("tokens that do not spell the text (e.g. cut by a stop sequence) fall back to characters; `token` then throws", () => {
  const reference = tokenRun(0, ONCE);
  const cut = tokenRun(1, ONCE);
  cut.content = "Once upon";
  assert.equal(findDivergence({ reference, run: cut })?.unit, "character");
  assert.throws(
    () => findDivergence({ reference, run: cut, unit: "token" }),
    (error: unknown) =>
      error instanceof InvalidParameterError &&
      error.parameter === "unit" &&
      /run 1 has tokens that do not spell its text/.test(error.message),
  );
  assert.throws(() => findDivergence({ reference, run: makeRun(1, "x"), unit: "token" }), /run 1 has none/);
  assert.throws(
    () => findDivergence({ reference, run: makeRun(1, RATE_LIMITED) }),
    (error: unknown) =>
      error instanceof InvalidParameterError &&
      error.parameter === "run" &&
      /failed \(RateLimitError\)/.test(error.message),
  );
  assert.throws(
    () => findDivergence({ reference, run: reference, contextCharacters: -1 }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "contextCharacters",
  );
});

test("a batch: one unit for all, identical and failed runs apart, sorted positions and their summary", () => {
  const runs = [
    tokenRun(0, ONCE),
    tokenRun(1, ONCE),
    tokenRun(2, [
      [
        "One",
        [
          ["Once", 0.9],
          ["One", 0.1],
        ],
      ],
    ]),
    makeRun(3, RATE_LIMITED),
    tokenRun(4, [
      ...ONCE.slice(0, 3),
      [
        " day",
        [
          [" time", 0.5],
          [" day", 0.45],
        ],
      ],
    ]),
    tokenRun(5, [
      ...ONCE.slice(0, 1),
      [
        " there",
        [
          [" upon", 0.8],
          [" there", 0.2],
        ],
      ],
    ]),
  ];
  const batch = findBatchDivergences({ batch: runs });
  assert.equal(batch.referenceIndex, 0);
  assert.equal(batch.unit, "token");
  assert.equal(batch.unitReason, null);
  assert.deepEqual(batch.identicalIndexes, [0, 1]);
  assert.deepEqual(batch.failedIndexes, [3]);
  assert.deepEqual(
    batch.divergences.map((divergence) => [divergence.runIndex, divergence.position]),
    [
      [2, 0],
      [4, 3],
      [5, 1],
    ],
  );
  assert.deepEqual(batch.positions, [0, 1, 3]);
  assert.deepEqual(batch.positionSummary, { minimum: 0, median: 1, maximum: 3 });
  assert.match(renderDivergenceHtml(batch), /first difference at token 0 to 3 \(median 1\) · /);

  // One run without logprobs turns the whole batch to characters, and says why.
  const mixed = findBatchDivergences({ batch: [...runs, makeRun(6, "Once upon a mountain")] });
  assert.equal(mixed.unit, "character");
  assert.equal(mixed.unitReason, "run 6 has no logprobs");
  assert.ok(
    mixed.divergences.every(
      (divergence) => divergence.unit === "character" && divergence.position === divergence.characterOffset,
    ),
  );
  // ...unless that run is identical to the reference: it is never compared token by token.
  assert.equal(findBatchDivergences({ batch: [...runs, makeRun(6, "Once upon a time")] }).unit, "token");

  // Another reference; a reference that failed or does not exist is an error.
  assert.equal(findBatchDivergences({ batch: runs, referenceIndex: 4 }).referenceIndex, 4);
  assert.throws(
    () => findBatchDivergences({ batch: runs, referenceIndex: 3 }),
    (error: unknown) =>
      error instanceof InvalidParameterError &&
      error.parameter === "referenceIndex" &&
      /0, 1, 2, 4, 5/.test(error.message),
  );
});

test("a batch where all runs agree, all failed, or only one run", () => {
  const agreeing = findBatchDivergences({ batch: [makeRun(0, "same"), makeRun(1, "same")] });
  assert.equal(agreeing.divergences.length, 0);
  assert.equal(agreeing.positionSummary, null);
  assert.match(renderDivergenceHtml(agreeing), /every run has the reference's exact text/);
  const failed = findBatchDivergences({ batch: [makeRun(0, RATE_LIMITED)] });
  assert.equal(failed.referenceIndex, null);
  assert.deepEqual(failed.failedIndexes, [0]);
  assert.match(renderDivergenceHtml(failed), /No run succeeded/);
  const single = findBatchDivergences({ batch: [makeRun(0, "alone")] });
  assert.deepEqual(single.identicalIndexes, [0]);
  assert.equal(single.divergences.length, 0);
});

test("margins: top-1 minus top-2 probability, fragile below the threshold, tokens sampled below the top", () => {
  const run = tokenRun(0, [
    ...ONCE.slice(0, 3),
    [
      " day",
      [
        [" time", 0.5],
        [" day", 0.45],
        [" hill", 0.05],
      ],
    ],
    ["!", [["!", 1]]],
  ]);
  const margins = computeMargins({ run });
  assert.equal(margins.length, 5);
  assert.ok(Math.abs((margins[0]?.margin ?? 0) - 0.8) < 1e-9);
  assert.equal(margins[0]?.fragile, false);
  assert.ok(Math.abs((margins[3]?.margin ?? 0) - 0.05) < 1e-9);
  assert.equal(margins[3]?.fragile, true);
  assert.equal(margins[3]?.sampledBelowTop, true, "' day' was emitted though ' time' was more likely");
  assert.equal(margins[3]?.top?.token, " time");
  assert.equal(margins[0]?.sampledBelowTop, false);
  assert.equal(margins[4]?.margin, null, "one candidate: no runner-up, no margin");
  assert.equal(margins[4]?.fragile, false);
  assert.equal(
    computeMargins({ run, fragileBelow: 0.9 }).filter((margin) => margin.fragile).length,
    3,
    "margins 0.8, 0.6 and 0.05",
  );
  assert.throws(
    () => computeMargins({ run: makeRun(0, "no logprobs") }),
    (error: unknown) =>
      error instanceof InvalidParameterError && error.parameter === "run" && /without logprobs/.test(error.message),
  );
  assert.throws(
    () => computeMargins({ run, fragileBelow: 0 }),
    (error: unknown) => error instanceof InvalidParameterError && error.parameter === "fragileBelow",
  );

  const html = renderMarginsHtml(margins);
  assert.match(html, /^<div class="seedlab-margins"/);
  assert.match(html, /1 of 5 tokens are fragile \(top-1 minus top-2 probability below 0\.1\) · 1 without a runner-up/);
  assert.match(
    renderMarginsHtml(computeMargins({ run: tokenRun(1, [["x", [["x", 1]]]]) })),
    /No margins: .*top_logprobs/,
  );
  assert.match(html, /1 tokens were sampled below the most likely one/);
  assert.equal((html.match(/class="seedlab-token seedlab-fragile"/g) ?? []).length, 1);
  assert.equal((html.match(/class="seedlab-token/g) ?? []).length, 5);
});

test("divergence, margins and positions HTML escape tokens and texts", () => {
  const evil: Array<[string, Array<[string, number]>]> = [
    [
      "<b>",
      [
        ["<b>", 0.6],
        ["&", 0.4],
      ],
    ],
    [
      "\"x'",
      [
        ["\"x'", 0.7],
        ["</td>", 0.3],
      ],
    ],
  ];
  const reference = tokenRun(0, evil);
  const other = tokenRun(1, [
    evil[0] as [string, Array<[string, number]>],
    [
      "</td>",
      [
        ["\"x'", 0.7],
        ["</td>", 0.3],
      ],
    ],
  ]);
  const html = renderDivergenceHtml(findBatchDivergences({ batch: [reference, other] }));
  assert.match(html, /^<div class="seedlab-divergence"/);
  assert.ok(!html.includes("<b>"), "no raw token markup");
  assert.equal((html.match(/<\/td>/g) ?? []).length, (html.match(/<td[ >]/g) ?? []).length, "no token closes a cell");
  assert.ok(html.includes("&lt;b&gt;") && html.includes("&lt;/td&gt;") && html.includes("&quot;x&#39;"));
  assert.match(html, /first difference at token 1 · /, "one position is named once, without a range or median");
  assert.match(html, /<svg class="seedlab-positions"/);
  const margins = renderMarginsHtml(computeMargins({ run: reference }));
  assert.ok(!margins.includes("<b>") && margins.includes("&lt;b&gt;"));
  assert.ok(/title="[^"]*&quot;&lt;b&gt;&quot;/.test(margins), "the tooltip attribute is escaped too");
  const svg = renderPositionsSvg([0, 0, 5], "character");
  assert.equal((svg.match(/<circle /g) ?? []).length, 3);
  assert.match(svg, /character 5/);
});

test("alternatives are printed with enough decimals to show that two runs' probabilities differ, and one decimal when they do not", () => {
  const near: Array<[string, Array<[string, number]>]> = [
    [
      "A",
      [
        ["A", 0.2153],
        ["B", 0.2152],
      ],
    ],
  ];
  const shifted: Array<[string, Array<[string, number]>]> = [
    [
      "B",
      [
        ["A", 0.21521],
        ["B", 0.21523],
      ],
    ],
  ];
  const differing = renderDivergenceHtml(findBatchDivergences({ batch: [tokenRun(0, near), tokenRun(1, shifted)] }));
  assert.ok(differing.includes("21.530%") && differing.includes("21.521%"), "three decimals tell 21.530% from 21.521%");
  const same = renderDivergenceHtml(
    findBatchDivergences({
      batch: [
        tokenRun(0, near),
        tokenRun(1, [
          [
            "B",
            [
              ["A", 0.2153],
              ["B", 0.2152],
            ],
          ],
        ]),
      ],
    }),
  );
  assert.ok(same.includes("21.5%") && !same.includes("21.53"), "equal numbers stay at one decimal");
});
