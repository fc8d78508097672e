// Package detectors defines what every detector is (Detector), what it
// produces (Finding) and the registry the pipeline runs. Each detector lives
// in its own folder below this one with its SQL beside its Go; it reads the
// loaded tables, compares publishers with the population and returns
// findings whose evidence a compliance reviewer can check. The codes are the
// contract of DESIGN §6.
package detectors
