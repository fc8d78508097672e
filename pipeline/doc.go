// Package pipeline owns the night: which day a run judges and the window
// and look-back every rule reads (Night), and the stages a run goes through.
// Detectors ask it for their window instead of computing one.
package pipeline
