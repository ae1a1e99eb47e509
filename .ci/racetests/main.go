// Command racetests prints, as a go test -run pattern, the tests of one
// package directory that check more without the race detector than with it,
// so that CI, having run every test once under -race (the README's command),
// runs only these again without it where the run without it adds no
// coverage (the root package: its only file is doc.go).
//
// A test is listed when it is declared in a file built only without the race
// detector (//go:build !race, or any constraint or file name that go test
// builds without -race and not with it, judged by go/build over the real
// tags), or when its declaration refers to raceEnabled (the constant each
// package's tests declare once per build mode: allocation counts, slow cases
// skipped, volumes lowered) or to any name declared in such a file (a
// helper whose race twin does less), directly or through any function,
// method, variable or constant of the directory's test files that does, at
// any depth. package p and package p_test are read as one (an external test
// may call the internal tests' exported helper). The choice is by name and
// over-includes on purpose: a listed test that does the same in both modes
// costs a run, a missed one would cost a check. Tests in files not built
// without the race detector are not listed.
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
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// marker is the identifier whose mention marks a function.
const marker = "raceEnabled"

// unit is a directory's test files, package p and package p_test together:
// an external test may reach the internal tests' exported helpers, and the
// choice is by name anyway.
type unit struct {
	// refs: each declared name (function, method, package-level variable
	// or constant) -> the identifiers its declaration mentions.
	refs map[string]map[string]bool
	// roots: the names declared in files built only without the race
	// detector (a helper there may check what its race twin does not).
	roots map[string]bool
	// tests: the Test, Fuzz and Example functions, with whether their file
	// is built only without the race detector.
	tests map[string]bool
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	names, err := list(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "racetests:", err)
		os.Exit(1)
	}
	if len(names) > 0 {
		fmt.Printf("^(%s)$\n", strings.Join(names, "|"))
	}
}

// list returns, sorted, the tests of dir that check more without the race
// detector.
func list(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	// The build as go test makes it here, without and with -race: the
	// file's name (_linux) and its //go:build line over every tag.
	without := build.Default
	with := build.Default
	with.BuildTags = append(slices.Clone(build.Default.BuildTags), "race")
	u := &unit{refs: map[string]map[string]bool{}, roots: map[string]bool{}, tests: map[string]bool{}}
	for _, path := range files {
		name := filepath.Base(path)
		in, err := without.MatchFile(dir, name)
		if err != nil {
			return nil, err
		}
		if !in {
			continue // not built without the race detector
		}
		inRace, err := with.MatchFile(dir, name)
		if err != nil {
			return nil, err
		}
		if err := u.read(path, !inRace); err != nil {
			return nil, err
		}
	}
	marked := u.marked()
	var names []string
	for test, norace := range u.tests {
		if norace || marked[test] {
			names = append(names, test)
		}
	}
	sort.Strings(names)
	return names, nil
}

// read adds one test file's declarations to the unit; norace: the file is
// built only without the race detector.
func (u *unit) read(path string, norace bool) error {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	add := func(name string, n ast.Node) {
		if norace {
			u.roots[name] = true
		}
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
	for name := range u.roots {
		marked[name] = true
	}
	for changed := true; changed; {
		changed = false
		for name, refs := range u.refs {
			if marked[name] || name == marker {
				continue
			}
			for ref := range refs {
				if ref == marker || marked[ref] {
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
