package penalty

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestJudgeLedger walks an order's dispositions: new once, left alone when
// seen again, amended when its reasons or amount grow, released by a
// cleared appeal, amended (not new) when disqualified again after that.
func TestJudgeLedger(t *testing.T) {
	tonight := func(order, reason string, stake unit, status string) dqOrder {
		return dqOrder{disqualified: disqualified{orderID: order, reasons: []string{reason}, findingIDs: []string{"f-" + reason}, stake: stake},
			publisherID: "P1", status: status, ts: day("2026-11-10")}
	}
	held := func(order string, reasons []string, amount unit, change, money string) *ledgerEntry {
		return &ledgerEntry{OrderID: order, PublisherID: "P1", Change: change, Money: money, ReasonCodes: reasons,
			FindingIDs: []string{"f-" + reasons[0]}, commission: amount, orderTS: day("2026-11-10")}
	}
	type row struct {
		Order, Change, Money string
		Reasons              []string
		Commission, Delta    string
	}
	for _, tc := range []struct {
		name    string
		prior   map[string]*ledgerEntry
		tonight []dqOrder
		appeals []clearedAppeal
		want    []row
	}{
		{name: "a pending order not held is new, withheld",
			tonight: []dqOrder{tonight("O1", "cookie_stuffing", 15000, "paid")},
			want:    []row{{"O1", "new", "withhold", []string{"cookie_stuffing"}, "1.5000", "1.5000"}}},
		{name: "a completed order is clawed back",
			tonight: []dqOrder{tonight("O1", "cookie_stuffing", 15000, "completed")},
			want:    []row{{"O1", "new", "clawback", []string{"cookie_stuffing"}, "1.5000", "1.5000"}}},
		{name: "held and seen again the same: nothing",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"cookie_stuffing"}, 15000, "new", "withhold")},
			tonight: []dqOrder{tonight("O1", "cookie_stuffing", 15000, "paid")}},
		{name: "a smaller amount tonight does not shrink the disposition",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"cookie_stuffing"}, 15000, "new", "withhold")},
			tonight: []dqOrder{tonight("O1", "cookie_stuffing", 5000, "paid")}},
		{name: "another reason amends, the money by the difference",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"invalid_commission:over_cap"}, 5000, "new", "withhold")},
			tonight: []dqOrder{tonight("O1", "cookie_stuffing", 15000, "paid")},
			want:    []row{{"O1", "amended", "withhold", []string{"cookie_stuffing", "invalid_commission:over_cap"}, "1.5000", "1.0000"}}},
		{name: "an appeal clearing the detector releases an order not named tonight",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"click_burst"}, 15000, "new", "clawback")},
			appeals: []clearedAppeal{{publisher: "P1", detector: "click_burst", decidedOn: day("2026-11-12")}},
			want:    []row{{"O1", "released", "clawback", []string{"click_burst"}, "0.0000", "-1.5000"}}},
		{name: "an appeal by finding id releases the orders that finding disqualified",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"click_burst"}, 15000, "new", "withhold")},
			tonight: []dqOrder{tonight("O1", "click_burst", 15000, "paid")},
			appeals: []clearedAppeal{{publisher: "P1", detector: "click_burst", findingID: "f-click_burst", decidedOn: day("2026-11-12")}},
			want:    []row{{"O1", "released", "withhold", []string{"click_burst"}, "0.0000", "-1.5000"}}},
		{name: "an appeal of one detector leaves an order another detector holds",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"click_burst", "cookie_stuffing"}, 15000, "new", "withhold")},
			appeals: []clearedAppeal{{publisher: "P1", detector: "click_burst", decidedOn: day("2026-11-12")}}},
		{name: "an appeal decided before the order was placed releases nothing",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"click_burst"}, 15000, "new", "withhold")},
			appeals: []clearedAppeal{{publisher: "P1", detector: "click_burst", decidedOn: day("2026-11-01")}}},
		{name: "another publisher's appeal releases nothing",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"click_burst"}, 15000, "new", "withhold")},
			appeals: []clearedAppeal{{publisher: "P2", detector: "*", decidedOn: day("2026-11-12")}}},
		{name: "disqualified again after its release: amended, never new twice",
			prior:   map[string]*ledgerEntry{"O1": held("O1", []string{"click_burst"}, 0, "released", "withhold")},
			tonight: []dqOrder{tonight("O1", "cookie_stuffing", 15000, "paid")},
			want:    []row{{"O1", "amended", "withhold", []string{"cookie_stuffing"}, "1.5000", "1.5000"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []row
			for _, e := range judgeLedger(tc.prior, tc.tonight, tc.appeals) {
				got = append(got, row{e.OrderID, e.Change, e.Money, e.ReasonCodes, e.Commission, e.Delta})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("dispositions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJudgeCases: a case opens, continues, escalates, is cleared by an
// appeal, closes after quiet nights, and a finding after that opens a new
// one.
func TestJudgeCases(t *testing.T) {
	f := func(id, sev string) detectors.Finding {
		return detectors.Finding{FindingID: id, PublisherID: "P1", Detector: "click_burst", Severity: sev, Score: 0.8}
	}
	open := func(latest string, last string, maxSev int) map[[2]string]*priorCase {
		return map[[2]string]*priorCase{{"P1", "click_burst"}: {id: "CA-OLD", publisher: "P1", detector: "click_burst",
			first: day("2026-11-10"), lastSeen: day(last), nights: 2, latest: latest, maxSev: maxSev, maxRung: 0,
			findingIDs: map[string]bool{"f-old": true}}}
	}
	steps := map[string]Step{"f1": {Action: "warning"}}
	type ev struct{ Case, Status string }
	night := day("2026-11-14")
	for _, tc := range []struct {
		name       string
		prior      map[[2]string]*priorCase
		appeals    []clearedAppeal
		acting     []detectors.Finding
		suppressed []Suppression
		want       []ev
	}{
		{name: "first finding opens a case", acting: []detectors.Finding{f("f1", "high")},
			want: []ev{{caseID("P1", "click_burst", night), CaseNew}}},
		{name: "seen again continues it", prior: open(CaseNew, "2026-11-13", 2), acting: []detectors.Finding{f("f1", "high")},
			want: []ev{{"CA-OLD", CaseContinuing}}},
		{name: "worse than before escalates", prior: open(CaseContinuing, "2026-11-13", 1), acting: []detectors.Finding{f("f1", "critical")},
			want: []ev{{"CA-OLD", CaseEscalated}}},
		{name: "quiet for seven nights closes", prior: open(CaseContinuing, "2026-11-07", 2),
			want: []ev{{"CA-OLD", CaseClosed}}},
		{name: "quiet for fewer nights stays open", prior: open(CaseContinuing, "2026-11-09", 2)},
		{name: "after the close a finding opens a new case", prior: open(CaseClosed, "2026-11-01", 2), acting: []detectors.Finding{f("f1", "high")},
			want: []ev{{caseID("P1", "click_burst", night), CaseNew}}},
		{name: "an appeal clears an open case without findings", prior: open(CaseContinuing, "2026-11-13", 2),
			appeals: []clearedAppeal{{publisher: "P1", detector: "click_burst", findingID: "f-old", decidedOn: day("2026-11-14")}},
			want:    []ev{{"CA-OLD", CaseCleared}}},
		{name: "a finding the appeal suppressed stays with the cleared case", prior: open(CaseCleared, "2026-11-13", 2),
			suppressed: []Suppression{{Finding: f("f-old", "high"), By: "appeal"}},
			want:       []ev{{"CA-OLD", CaseCleared}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, caseOf := judgeCases(tc.prior, tc.appeals, tc.acting, steps, tc.suppressed, night, 7)
			var got []ev
			for _, e := range events {
				got = append(got, ev{e.CaseID, e.Status})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("case events (-want +got):\n%s", diff)
			}
			for _, x := range tc.acting {
				if caseOf[x.FindingID] == "" {
					t.Errorf("finding %s has no case", x.FindingID)
				}
			}
		})
	}
}
