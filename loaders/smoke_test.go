package loaders

import (
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	st := openStore(t)
	dir := writeInputs(t, map[string]string{
		"clicks.csv": "click_id,ts,publisher_id,landed,viewport_w,target_type,extra_col\n" +
			"C1,2026-11-21T09:00:00Z,P1,true,1200,product,x\n" +
			"C2,2026-11-21T12:00:00+03:00,P1,0,300,STORE,y\n" +
			"C3,1763715600000,P2,1,,home,z\n" +
			"C4,not-a-time,P2,maybe,-5,spaceship,w\n" +
			"C1,2026-11-21T09:30:00Z,P1,true,1,product,dup\n",
	})
	res := load(t, st, dir, time.Time{})
	for _, f := range res.Files {
		t.Logf("%s %s read=%d loaded=%d q=%d", f.Rel, f.Status, f.RowsRead, f.RowsLoaded, f.RowsQuarantined)
	}
	for _, q := range quarantined(t, st, "clicks") {
		t.Logf("%+v", q)
	}
	rows, _ := st.DB.Query(`SELECT click_id, ts::VARCHAR, landed, viewport_w, target_type, extra::VARCHAR, _line FROM clicks ORDER BY click_id`)
	for rows.Next() {
		var a, b, e, f any
		var c, d, g any
		rows.Scan(&a, &b, &c, &d, &e, &f, &g)
		t.Log(a, b, c, d, e, f, g)
	}
}
