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
// with them.
func TestCommandHoldsNoSQL(t *testing.T) {
	dbCalls := map[string]bool{"Query": true, "QueryContext": true, "QueryRow": true, "QueryRowContext": true,
		"Exec": true, "ExecContext": true, "Begin": true, "BeginTx": true, "Prepare": true, "PrepareContext": true}
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
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && dbCalls[sel.Sel.Name] {
				t.Errorf("%s: %s calls the database (%s): move it into the package that owns the data", fset.Position(call.Pos()), name, sel.Sel.Name)
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("only %d source files checked: is the test running in cmd/affwatch?", checked)
	}
}
