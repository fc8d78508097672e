package penalty

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Disposition changes (clause 7.8's report, DESIGN §6).
const (
	ChangeNew      = "new"
	ChangeAmended  = "amended"
	ChangeReleased = "released"
)

// ledgerEntry is an order's disposition as the ledger holds it.
type ledgerEntry struct {
	OrderID        string    `json:"order_id"`
	PublisherID    string    `json:"publisher_id"`
	Change         string    `json:"change"`
	OrderTS        *string   `json:"order_ts"`
	OrderAmountUSD *string   `json:"order_amount_usd"`
	OrderStatus    string    `json:"order_status"`
	Money          string    `json:"money"`
	ReasonCodes    []string  `json:"reason_codes"`
	FindingIDs     []string  `json:"finding_ids"`
	CaseIDs        []string  `json:"case_ids"`
	Commission     string    `json:"commission_usd"`
	Delta          string    `json:"delta_usd"`
	Note           string    `json:"note"`
	commission     unit      // after this change
	delta          unit      // the change in money this row makes
	orderTS        time.Time // zero: unknown
}

// active reports whether the entry holds money.
func (e *ledgerEntry) active() bool { return e.Change != ChangeReleased && e.commission > 0 }

// readLedger reads the latest disposition of the orders named and of every
// order of the publishers named, from successful runs of earlier days.
func readLedger(ctx context.Context, tx *sql.Tx, runID string, nightArg any, runDate time.Time, orders, pubs []string) (map[string]*ledgerEntry, error) {
	out := map[string]*ledgerEntry{}
	if len(orders) == 0 && len(pubs) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, queries["PriorDispositions"], runID, nightArg, runDate.Format(time.DateOnly), nightArg == nil,
		nonNil(orders), nonNil(pubs))
	if err != nil {
		return nil, fmt.Errorf("read the disposition ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := &ledgerEntry{}
		var reasons, fids, cids string
		var ts sql.NullTime
		if err := rows.Scan(&e.OrderID, &e.PublisherID, &e.Change, &ts, &e.OrderStatus, &e.Money, &reasons, &fids, &cids, &e.commission); err != nil {
			return nil, err
		}
		if ts.Valid {
			e.orderTS = ts.Time
		}
		for _, l := range []struct {
			text string
			dst  *[]string
		}{{reasons, &e.ReasonCodes}, {fids, &e.FindingIDs}, {cids, &e.CaseIDs}} {
			if err := json.Unmarshal([]byte(l.text), l.dst); err != nil {
				return nil, fmt.Errorf("ledger of order %s: %w", e.OrderID, err)
			}
		}
		out[e.OrderID] = e
	}
	return out, rows.Err()
}

// reasonDetector is the detector of a reason code ("invalid_commission:refunded").
func reasonDetector(code string) string {
	d, _, _ := strings.Cut(code, ":")
	return d
}

// clearedFor reports whether a cleared appeal takes detector's reasons off
// the order: an appeal naming one of the findings that disqualified it, or
// one clearing the detector (or every detector) of the publisher for orders
// placed up to the day of the decision.
func clearedFor(appeals []clearedAppeal, pub, detector string, findingIDs []string, orderTS time.Time) bool {
	for _, a := range appeals {
		if a.publisher != pub || (a.detector != "*" && a.detector != detector) {
			continue
		}
		if a.findingID != "" {
			for _, f := range findingIDs {
				if f == a.findingID {
					return true
				}
			}
			continue
		}
		if !orderTS.IsZero() && orderTS.Before(a.decidedOn.AddDate(0, 0, 1)) {
			return true
		}
	}
	return false
}

// judgeLedger compares tonight's disqualified orders with the ledger and
// returns tonight's dispositions: an order not held yet is new; one held
// whose reasons or amount grow is amended (the money grows by the
// difference; reasons and amounts never shrink from one night to the next,
// the same breach seen through an overlapping window is the same
// disposition); one whose every reason a cleared appeal took off is
// released (its money comes back). Orders the night does not name are left
// alone.
func judgeLedger(prior map[string]*ledgerEntry, tonight []dqOrder, appeals []clearedAppeal) []*ledgerEntry {
	var out []*ledgerEntry
	named := map[string]bool{}
	keep := func(pub string, codes, fids []string, ts time.Time) []string {
		var k []string
		for _, c := range codes {
			if !clearedFor(appeals, pub, reasonDetector(c), fids, ts) {
				k = append(k, c)
			}
		}
		return k
	}
	for _, d := range tonight {
		named[d.orderID] = true
		p := prior[d.orderID]
		var fids []string
		fids = append(fids, d.findingIDs...)
		if p != nil {
			fids = union(p.FindingIDs, fids)
		}
		reasons := keep(d.publisherID, d.reasons, fids, d.ts)
		if p != nil && p.active() {
			all := keep(d.publisherID, union(p.ReasonCodes, reasons), fids, d.ts)
			if len(all) == 0 {
				out = append(out, release(p, "cleared by an appeal"))
				continue
			}
			amount := max(p.commission, d.stake)
			if amount == p.commission && equal(all, p.ReasonCodes) {
				continue
			}
			e := entryFrom(d, ChangeAmended, p.Money, all, fids, union(p.CaseIDs, d.caseIDs), amount, amount-p.commission)
			var what []string
			if !equal(all, p.ReasonCodes) {
				what = append(what, "reasons "+strings.Join(p.ReasonCodes, ";")+" → "+strings.Join(all, ";"))
			}
			if amount != p.commission {
				what = append(what, fmt.Sprintf("commission %s → %s", p.commission.decimal2(), amount.decimal2()))
			}
			e.Note = strings.Join(what, "; ")
			out = append(out, e)
			continue
		}
		if len(reasons) == 0 {
			continue // every reason cleared by an appeal: nothing to disqualify
		}
		money := "withhold"
		if d.status == "completed" {
			money = "clawback"
		}
		change, note := ChangeNew, "first disqualified tonight"
		if p != nil {
			// Released before, disqualified again: the ledger counts each
			// order new once.
			change, note, money = ChangeAmended, "disqualified again after its release", p.Money
		}
		e := entryFrom(d, change, money, reasons, fids, d.caseIDs, d.stake, d.stake)
		e.Note = note
		out = append(out, e)
	}
	// Orders held that tonight does not name: released when an appeal took
	// every reason off.
	var ids []string
	for id, p := range prior {
		if !named[id] && p.active() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := prior[id]
		if len(keep(p.PublisherID, p.ReasonCodes, p.FindingIDs, p.orderTS)) == 0 {
			out = append(out, release(p, "cleared by an appeal"))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PublisherID != out[j].PublisherID {
			return out[i].PublisherID < out[j].PublisherID
		}
		return out[i].OrderID < out[j].OrderID
	})
	for _, e := range out {
		e.Commission, e.Delta = e.commission.decimal(), e.delta.decimal()
	}
	return out
}

// dqOrder is an order tonight's findings disqualify, with what the ledger
// records of it.
type dqOrder struct {
	disqualified
	publisherID string
	status      string // the order's status: completed means paid
	ts          time.Time
	amount      *string
	caseIDs     []string
}

func entryFrom(d dqOrder, change, money string, reasons, fids, cids []string, amount, delta unit) *ledgerEntry {
	e := &ledgerEntry{OrderID: d.orderID, PublisherID: d.publisherID, Change: change, Money: money,
		OrderStatus: "pending", ReasonCodes: reasons, FindingIDs: fids, CaseIDs: nonNil(cids), commission: amount,
		OrderAmountUSD: d.amount, orderTS: d.ts}
	if d.status == "completed" {
		e.OrderStatus = "paid"
	}
	if !d.ts.IsZero() {
		s := d.ts.UTC().Format("2006-01-02 15:04:05")
		e.OrderTS = &s
	}
	e.delta = delta
	return e
}

func release(p *ledgerEntry, note string) *ledgerEntry {
	e := *p
	e.Change, e.Note = ChangeReleased, note
	e.delta = -p.commission
	e.commission = 0
	if !p.orderTS.IsZero() {
		s := p.orderTS.UTC().Format("2006-01-02 15:04:05")
		e.OrderTS = &s
	}
	return &e
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, xs := range [][]string{a, b} {
		for _, x := range xs {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// decimal2 is u in dollars to the cent, for notes.
func (u unit) decimal2() string { return fmt.Sprintf("US$%.2f", u.cents()) }
