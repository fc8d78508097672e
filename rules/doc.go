// Package rules is the policy pack: which rules the program enforces, the
// clause each cites, its severity, status and thresholds, the brands of
// DESIGN §5, and the working-day calendar for appeal deadlines (G.12). The
// default pack for the program in ../shared/policy is embedded; a pack file
// may say `extends: default` and override any top-level key. Packs are
// validated on load with errors naming the file, line and key, so an
// analyst can tune thresholds without rebuilding.
package rules
