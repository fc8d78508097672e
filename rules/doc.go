// Package rules is the policy pack: which rules the program enforces, the
// clause each cites, its severity, status and thresholds, the brands, the
// commission terms, the penalty ladder and the allow-list, and the
// working-day calendar for appeal deadlines (G.12). The default pack for
// the program is embedded; a pack file may say `extends: default` and
// overlay it key by key (one threshold, one list entry; `!remove` and
// `!replace` for the rest).
//
// Each detector declares its thresholds as a typed struct (Declare), so a
// pack is decoded strictly when it loads: unknown keys, values of the wrong
// type or out of range, and rule names that resolve to nothing are errors
// at their file:line before any input is read, and an analyst can tune
// thresholds without rebuilding and without fear.
package rules
