package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// stageStat is one stage (or, inside detect, one detector) of a run: how
// long it took and the most memory and spill seen while it ran.
type stageStat struct {
	name             string
	seconds          float64
	rssMiB, spillMiB float64
}

// stageProfile cuts a run's samples at the "stage started" and "detector
// started" lines of its JSON log.
func stageProfile(log []byte, samples []sample, end time.Time) []stageStat {
	type mark struct {
		at   time.Time
		name string
	}
	var marks []mark
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Time     time.Time `json:"time"`
			Msg      string    `json:"msg"`
			Stage    string    `json:"stage"`
			Detector string    `json:"detector"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch l.Msg {
		case "stage started":
			marks = append(marks, mark{l.Time, l.Stage})
		case "detector started":
			marks = append(marks, mark{l.Time, "detect: " + l.Detector})
		}
	}
	var out []stageStat
	for i, m := range marks {
		to := end
		if i+1 < len(marks) {
			to = marks[i+1].at
		}
		st := stageStat{name: m.name, seconds: to.Sub(m.at).Seconds()}
		for _, s := range samples {
			if s.at.Before(m.at) || !s.at.Before(to) {
				continue
			}
			st.rssMiB = max(st.rssMiB, float64(s.rssBytes)/(1<<20))
			st.spillMiB = max(st.spillMiB, float64(s.spill)/(1<<20))
		}
		out = append(out, st)
	}
	return out
}

// renderProfile is the per-stage table of one size.
func renderProfile(clicks int, ps []stageStat) string {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nStages of the %d-click run (from its log; memory and spill sampled every 500 ms):\n\n", clicks)
	b.WriteString("| stage | seconds | peak RSS MiB | peak spill MiB |\n|---|---|---|---|\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "| %s | %.1f | %.0f | %.0f |\n", p.name, p.seconds, p.rssMiB, p.spillMiB)
	}
	return b.String()
}
