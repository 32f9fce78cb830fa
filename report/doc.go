// Package report renders fimprune's inference report from a results file
// (results.json, schema "fimprune/results/v3", or the older v2 and v1) and
// nothing else: it imports only packages results and deletion (for the
// deletion record's page, [RenderDeletion]), goldmark and gonum (plot, and
// distuv for Student's t), never gomlx or fimlib's compute packages, so a
// report can be regenerated anywhere in well under a second (scripts/report)
// and the experiment writes the same report at the end of a run
// (scripts/experiment).
//
// Entry points:
//
//   - [Render] turns a *results.Results into [Files]: report.md (GitHub-
//     flavoured Markdown), report.html (one self-contained page), the seed's
//     inference_report_summary.json and the figures as SVG.
//   - [WriteDir] renders and writes those files into a directory, each
//     atomically (results.WriteFileAtomic).
//   - Package report/pdf prints report.html to PDF with headless Chromium;
//     it is separate so that this package needs no browser.
//
// Sections mirror the seed notebook's report (docs/protocol.md):
// metadata; 1 model performance; 2 privacy evaluation (loss and confidence
// attacks); 3 utility–privacy trade-off; 4 computational efficiency; 5
// pruning per tensor and the Fisher scores (with the other Fisher kind for
// comparison); 6 key findings; 7 method notes with formulas and sources; 8,
// only when the results carry a study (schema v2 or v3), the deletion
// methods compared over seeds: methods × metrics tables with the file's 95 %
// t intervals (utility and cost; population attacks, RMIA and tie-robust
// offline LiRA; the per-example attacks U-LiRA and the challenge's ε), a
// utility-cost-against-forgetting figure (fig-5-pareto.svg), the verdicts a
// v3 file stores (package fimlib/verdict: paired t tests under Holm's
// correction with their minimum detectable effects) and what the data
// cannot decide; and appendices with the seed's summary lines and the
// inputs. Methods are named from their typed identity
// (results.Method.Identity), never by parsing a name.
//
// Conventions:
//
//   - Deterministic: the output depends only on the results (the date is
//     Environment.Time, never the clock), maps are walked in sorted order and
//     every number is formatted by fixed-precision strconv calls, so the same
//     results give byte-identical files. NaN and ±Inf print as "n/a"; a
//     negative zero prints as 0.
//   - Findings are computed from the data: each statement in section 6 is
//     chosen by comparing numbers with their sampling error (2 standard
//     errors, or whether 95 % intervals contain 0.5 or overlap the
//     retrained model's). Section 8 computes no statistic: it renders the
//     intervals and verdicts the results file holds (Study.Verdicts, which
//     package fimlib/verdict computes when the study runs), each verdict
//     with its interval; a v2 file has no verdicts, so none are shown.
//   - Figures: gonum/plot draws each figure to SVG (text in Liberation Sans,
//     named with metric-compatible fallbacks instead of embedding the font,
//     which keeps a figure near 30 kB). report.md links them as files beside
//     it (fig-1-overview.svg, fig-2-tradeoff.svg, fig-3-fisher.svg, and
//     fig-4-roc.svg and fig-5-pareto.svg when the results allow), which
//     GitHub displays; report.html carries the same SVG inline. Every
//     figure is 7 in wide, the printed column, so that text is the same
//     size in all of them; keys sit above the data or beside it, never on
//     it (layout.go); colours are Okabe–Ito's, and series sharing a panel
//     differ by marker shape or dash pattern too; tick labels are exact.
//   - Escaping: strings from the results (feature names, the deletion spec,
//     versions, the CPU name, tensor names, study method names, recipes,
//     forget-set specs, ...) are made inert Markdown (backslash escapes or
//     code spans) before goldmark sees them, and goldmark runs in its safe
//     mode, so they reach the page as escaped text; in figures gonum escapes
//     them (method labels are also put on one line and shortened). The
//     figures are the only markup this package trusts: a goldmark
//     AST transformer replaces each image paragraph that names one of this
//     report's figure files with a figure node, whose renderer writes the
//     generated SVG (see html.go). The page has no script and a
//     Content-Security-Policy that forbids loading anything.
//
// Why this design: Markdown is the one source for both outputs, so the page
// and the file GitHub shows cannot drift apart; SVG keeps figures sharp in
// print and small; and working from results.json alone makes the report a
// pure function that golden tests can pin down.
package report

//go:generate go run ../scripts/report -in testdata/real-results.json -out example
