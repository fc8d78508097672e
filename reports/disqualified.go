package reports

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// disqualifiedHeader is disqualified_orders.csv's header (DESIGN §6).
var disqualifiedHeader = []string{"order_id", "publisher_id", "reason_codes", "commission_usd", "finding_ids"}

// listSep joins the list cells of disqualified_orders.csv.
const listSep = ";"

// writeDisqualifiedOrders streams clause 7.8's itemized report as CSV.
// Text cells go through NeutralizeCell; commission_usd is a number this
// package formats and cannot hold a formula.
func writeDisqualifiedOrders(ctx context.Context, db *sql.DB, runID string, out io.Writer) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(disqualifiedHeader); err != nil {
		return err
	}
	err := eachRow(ctx, db, "DisqualifiedOrders", []any{runID}, func(rows *sql.Rows) error {
		var orderID, publisherID, reasonsText, commissionText, findingsText string
		if err := rows.Scan(&orderID, &publisherID, &reasonsText, &commissionText, &findingsText); err != nil {
			return err
		}
		reasons, err := stringList(reasonsText, "order "+orderID+" reason_codes")
		if err != nil {
			return err
		}
		findingIDs, err := stringList(findingsText, "order "+orderID+" finding_ids")
		if err != nil {
			return err
		}
		commission, err := parseMoney(commissionText)
		if err != nil {
			return fmt.Errorf("order %s: commission_usd: %w", orderID, err)
		}
		return cw.Write([]string{
			NeutralizeCell(orderID),
			NeutralizeCell(publisherID),
			NeutralizeCell(strings.Join(reasons, listSep)),
			commission.String(),
			NeutralizeCell(strings.Join(findingIDs, listSep)),
		})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
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
