// Command racetests prints, as a go test -run pattern, the tests of one
// package directory that check more without the race detector than with it,
// so that CI, having run every test once under -race (the README's command),
// runs only these again without it where the run without it adds no
// coverage (the root package: its only file is doc.go).
//
// A test is listed when it is declared in a file built only without the race
// detector (//go:build !race), or when its declaration refers to raceEnabled
// (the constant each package's tests declare once per build mode: allocation
// counts, slow cases skipped, volumes lowered), directly or through any
// function, method, variable or constant of its test package that does, at
// any depth. The choice is by name and over-includes on purpose: a listed
// test that does the same in both modes costs a run, a missed one would cost
// a check. Tests in files built only with the race detector are not listed.
//
// Output: ^(TestA|TestB|...)$ naming every listed Test, Fuzz and Example
// function, or nothing when none is. go/parser reads the files; nothing is
// built or run.
//
// Usage: go run ./.ci/racetests [dir]
package main

import (
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// marker is the identifier whose mention marks a function.
const marker = "raceEnabled"

// unit is one test package: a directory's files of one package clause
// (package p and package p_test are two units).
type unit struct {
	// refs: each declared name (function, method, package-level variable
	// or constant) -> the identifiers its declaration mentions.
	refs map[string]map[string]bool
	// tests: the Test, Fuzz and Example functions, with whether their file
	// is built only without the race detector.
	tests map[string]bool
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		fail(err)
	}
	units := map[string]*unit{} // by package name: p and p_test are two
	for _, path := range files {
		if err := readFile(units, path); err != nil {
			fail(err)
		}
	}
	names := map[string]bool{}
	for _, u := range units {
		marked := u.marked()
		for test, norace := range u.tests {
			if norace || marked[test] {
				names[test] = true
			}
		}
	}
	if len(names) > 0 {
		fmt.Printf("^(%s)$\n", strings.Join(sorted(names), "|"))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "racetests:", err)
	os.Exit(1)
}

// readFile adds one test file's declarations to its unit.
func readFile(units map[string]*unit, path string) error {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	norace := false
	for _, group := range f.Comments {
		if group.Pos() >= f.Package {
			break
		}
		for _, c := range group.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			expr, err := constraint.Parse(c.Text)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			// Built without race and not with it.
			norace = expr.Eval(func(tag string) bool { return tag != "race" }) &&
				!expr.Eval(func(string) bool { return true })
			if !expr.Eval(func(tag string) bool { return tag != "race" }) {
				return nil // built only with the race detector: ran already
			}
		}
	}
	key := f.Name.Name
	u := units[key]
	if u == nil {
		u = &unit{refs: map[string]map[string]bool{}, tests: map[string]bool{}}
		units[key] = u
	}
	add := func(name string, n ast.Node) {
		set := u.refs[name]
		if set == nil {
			set = map[string]bool{}
			u.refs[name] = set
		}
		ast.Inspect(n, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				set[id.Name] = true
			}
			return true
		})
	}
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			name := decl.Name.Name
			add(name, decl)
			if decl.Recv == nil && isTest(name) {
				u.tests[name] = u.tests[name] || norace
			}
		case *ast.GenDecl:
			for _, spec := range decl.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok {
					for _, id := range vs.Names {
						add(id.Name, vs)
					}
				}
			}
		}
	}
	return nil
}

// marked returns the names whose declarations reach raceEnabled.
func (u *unit) marked() map[string]bool {
	marked := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, refs := range u.refs {
			if marked[name] || name == marker {
				continue
			}
			for ref := range refs {
				if ref == marker || (ref != name && marked[ref]) {
					marked[name] = true
					changed = true
					break
				}
			}
		}
	}
	return marked
}

// isTest reports whether go test runs a function of this name.
func isTest(name string) bool {
	for _, prefix := range []string{"Test", "Fuzz", "Example"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if rest == "" || prefix == "Example" && rest[0] == '_' || !isLower(rest[0]) {
				return name != "TestMain"
			}
		}
	}
	return false
}

func isLower(b byte) bool { return 'a' <= b && b <= 'z' }

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
