// Package reports writes a run's outputs (DESIGN §6, contract) from the
// tables the earlier stages filled: findings, recommendations,
// disqualified_orders and signals_unavailable (the rows of one run_id), and
// quarantine (the rows of the run's input files). Write produces the five
// files of the contract:
//
//   - findings.ndjson: one finding per line, for the enforcement workflow and
//     for analysts (jq, DuckDB read_json);
//   - recommendations.json: the penalty suggested per publisher (clause F.11)
//     with its appeal deadline (clause G.12), for the enforcement workflow;
//   - disqualified_orders.csv: clause 7.8's itemized Disqualified Purchases
//     Report of tonight's dispositions (the ledger's rows of the run: each
//     order new once across nights, later amended or released), for the
//     enforcement workflow and the publisher;
//   - report.html: the compliance reviewers' report, one self-contained page
//     (inline CSS and SVG, no script, no external URL) that shows every flag
//     with the evidence a reviewer needs to defend it in an appeal;
//   - run.json: the manifest (inputs and their hashes, rule pack, quarantined
//     rows, signals unavailable, timings, counts, output hashes), written
//     last: its presence says the outputs are complete.
//
// and four more, the same rows for other tools (disqualified_orders.parquet
// is the dispositions typed): recommendations.csv (the
// enforcement team's spreadsheet), findings.parquet and
// recommendations.parquet (typed, for DuckDB, pandas or Spark). Every
// amount of money leaves in cents, rounded once from the tables'
// DECIMAL(18,4); JSON Schemas of findings.ndjson, recommendations.json and
// run.json are in docs/schemas.
//
// # Atomicity
//
// Write puts every file in a temporary directory inside the output
// directory (.affwatch-tmp-<run id>), fsyncs each, and only then commits:
// it deletes any old run.json, renames the other files into place,
// renames run.json last and fsyncs the directory. A failure or a cancelled
// context before the commit leaves the previous outputs untouched and the
// temporary directory removed; a failure during the commit leaves no
// run.json. Readers must therefore treat an output directory without
// run.json, or whose run.json names another run, as incomplete. A process
// killed outright may leave a .affwatch-tmp-* directory behind; it is never
// mistaken for output and the next Write of the same run id replaces it.
//
// # Determinism and untrusted input
//
// The same rows give byte-identical findings.ndjson, recommendations.json,
// recommendations.csv, disqualified_orders.csv and Parquet files; run.json
// and report.html differ only by the timestamps of Meta (DESIGN §7). Every
// string from the database is attacker-controlled (log fields, crawled
// pages, file names): report.html escapes it with html/template, the CSV
// files neutralize spreadsheet formulas (see NeutralizeCell), and every
// list shown to people is capped so that a hostile input cannot make the
// report unreadable.
package reports
