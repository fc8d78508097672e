package reports

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// disqualifiedHeader is disqualified_orders.csv's header: clause 7.8's
// itemized report of tonight's dispositions (DESIGN §6: order, publisher,
// reason codes, commission, run_id, night, change). Each order appears as
// new once across nights; amended and released rows say what changed.
// withhold_usd and clawback_usd are the money the row moves (new: the
// commission; amended: the difference; released: minus what was held), in
// the column that applies (pending commission is withheld, paid commission
// clawed back), so the nightly files add up to the ledger's totals.
var disqualifiedHeader = []string{
	"run_id", "night", "change", "order_id", "publisher_id", "order_date", "order_amount_usd", "order_status",
	"reason_codes", "commission_usd", "withhold_usd", "clawback_usd", "finding_ids", "case_ids", "note",
}

// listSep joins the list cells of disqualified_orders.csv.
const listSep = ";"

// writeDisqualifiedOrders streams tonight's dispositions as CSV. Text cells
// go through NeutralizeCell, ids through TextCell; money is formatted here
// and cannot hold a formula.
func writeDisqualifiedOrders(ctx context.Context, db *sql.DB, runID string, out io.Writer) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(disqualifiedHeader); err != nil {
		return err
	}
	err := eachRow(ctx, db, "Dispositions", []any{runID}, func(rows *sql.Rows) error {
		var runID, night, change, orderID, publisherID, orderDate, amount, status, money string
		var reasonsText, commissionText, deltaText, findingsText, casesText, note string
		if err := rows.Scan(&runID, &night, &change, &orderID, &publisherID, &orderDate, &amount, &status, &money,
			&reasonsText, &commissionText, &deltaText, &findingsText, &casesText, &note); err != nil {
			return err
		}
		var lists [3][]string
		for i, t := range []string{reasonsText, findingsText, casesText} {
			l, err := stringList(t, "order "+orderID+" "+[]string{"reason_codes", "finding_ids", "case_ids"}[i])
			if err != nil {
				return err
			}
			lists[i] = l
		}
		commission, err := parseMoney(commissionText)
		if err != nil {
			return fmt.Errorf("order %s: commission_usd: %w", orderID, err)
		}
		delta, err := parseMoney(deltaText)
		if err != nil {
			return fmt.Errorf("order %s: delta: %w", orderID, err)
		}
		withhold, clawback := delta.String(), ""
		if money == "clawback" {
			withhold, clawback = "", delta.String()
		}
		amountText := ""
		if amount != "" {
			a, err := parseMoney(amount)
			if err != nil {
				return fmt.Errorf("order %s: order_amount_usd: %w", orderID, err)
			}
			amountText = a.String()
		}
		return cw.Write([]string{
			NeutralizeCell(runID),
			night,
			change,
			TextCell(orderID),
			TextCell(publisherID),
			orderDate,
			amountText,
			status,
			NeutralizeCell(strings.Join(lists[0], listSep)),
			commission.String(),
			withhold,
			clawback,
			NeutralizeCell(strings.Join(lists[1], listSep)),
			NeutralizeCell(strings.Join(lists[2], listSep)),
			NeutralizeCell(note),
		})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// TextCell keeps an id a spreadsheet would read as a number as text: a
// cell of digits (or anything Excel parses as a number: "1E5", "0012",
// "12.30") gets a leading apostrophe, so Excel neither rounds a 16-digit
// order id to 15 significant digits nor drops leading zeros. It is
// NeutralizeCell's rule (remove exactly one leading apostrophe from any
// cell that has one to recover the original), applied to number-looking
// ids too; the Parquet files carry the ids as plain text.
func TextCell(s string) string {
	if looksNumeric(s) {
		return "'" + s
	}
	return NeutralizeCell(s)
}

// looksNumeric reports whether a spreadsheet would take s for a number.
func looksNumeric(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return false
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return true
	}
	return false
}

// NeutralizeCell defuses CSV formula injection (OWASP "CSV Injection"): a
// cell that a spreadsheet would evaluate, one starting with =, +, -, @, tab,
// CR or LF (or their full-width forms, which some spreadsheets fold), gets
// a leading apostrophe, which spreadsheets show as a text marker. A cell
// that already starts with an apostrophe gets one too, so the rule is
// reversible: a program reading the file recovers the original by removing
// exactly one leading apostrophe from any cell that has one.
func NeutralizeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n', '\'':
		return "'" + s
	}
	for _, p := range []string{"＝", "＋", "－", "＠"} {
		if strings.HasPrefix(s, p) {
			return "'" + s
		}
	}
	return s
}
