package detectors

import (
	"encoding/json"
	"fmt"
)

// PenaltyFacts are the fields of a finding's evidence the penalty engine
// decides with. Detectors write them under these keys (the evidence is
// the contract's JSON object); the engine reads them through Facts, typed,
// and a finding whose evidence does not hold them in these types fails the
// night instead of being judged as if they were absent.
type PenaltyFacts struct {
	// SingleSignal: the finding rests on one signal (F.11's confidence).
	SingleSignal bool `json:"single_signal"`
	// OrderReasons itemize each order: its reason codes and the money at
	// stake on it (an overpaid order puts only the excess at stake).
	OrderReasons map[string]OrderStake `json:"order_reasons"`
	// The publisher's and the program's attributed and disqualified
	// orders (invalid_commission), for the anomaly test of corrections.
	OrdersAttributed   int          `json:"orders_attributed"`
	OrdersDisqualified int          `json:"orders_disqualified"`
	Program            ProgramCount `json:"program"`
}

// OrderStake is one order of PenaltyFacts.OrderReasons.
type OrderStake struct {
	Reasons    []string `json:"reasons"`
	AtStakeUSD float64  `json:"at_stake_usd"`
}

// ProgramCount is the program's side of the correction anomaly test.
type ProgramCount struct {
	OrdersAttributed   int `json:"orders_attributed"`
	OrdersDisqualified int `json:"orders_disqualified"`
}

// Facts decodes the penalty engine's fields from the finding's evidence.
func (f Finding) Facts() (PenaltyFacts, error) {
	var p PenaltyFacts
	if len(f.Evidence) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(f.Evidence, &p); err != nil {
		return p, fmt.Errorf("finding %s (%s): evidence: %w", f.FindingID, f.Detector, err)
	}
	return p, nil
}
