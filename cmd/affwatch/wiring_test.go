package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandHoldsNoSQL keeps cmd/affwatch to flags and wiring: every
// statement the database runs lives in the packages that own the data
// (pipeline, store, loaders, detectors, rules, reports), where it is tested
// with them, and every stage runs from the pipeline's list.
func TestCommandHoldsNoSQL(t *testing.T) {
	dbCalls := map[string]bool{"Query": true, "QueryContext": true, "QueryRow": true, "QueryRowContext": true,
		"Exec": true, "ExecContext": true, "Begin": true, "BeginTx": true, "Prepare": true, "PrepareContext": true}
	// The stages' entry points: a command that calls one of these runs a
	// stage outside the pipeline's list.
	stageCalls := map[string]bool{"loaders.Load": true, "loaders.DiscoverInputsWith": true, "detectors.Run": true,
		"detectors.PrepareGlobals": true, "penalty.Apply": true, "reports.Write": true, "crawler.New": true, "render.New": true,
		"reflists.Label": true, "store.ImportPartition": true, "store.ExportPartition": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if dbCalls[sel.Sel.Name] {
				t.Errorf("%s: %s calls the database (%s): move it into the package that owns the data", fset.Position(call.Pos()), name, sel.Sel.Name)
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && stageCalls[pkg.Name+"."+sel.Sel.Name] {
				t.Errorf("%s: %s runs a stage itself (%s.%s): the pipeline package owns the stages", fset.Position(call.Pos()), name, pkg.Name, sel.Sel.Name)
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("only %d source files checked: is the test running in cmd/affwatch?", checked)
	}
}
