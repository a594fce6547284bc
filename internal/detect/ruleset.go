package detect

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// builtinRules are the detections shipped in the binary, one YAML file each.
//
//go:embed rules/*.yaml
var builtinRules embed.FS

// RuleSet is a loaded set of rules: the built-in ones, with users' overrides
// applied and users' own rules added, sorted by ID.
type RuleSet struct {
	Rules []*Rule
}

// Lookup returns the rule with an ID.
func (s *RuleSet) Lookup(id string) (*Rule, bool) {
	i, ok := slices.BinarySearchFunc(s.Rules, id, func(r *Rule, id string) int { return cmp.Compare(r.ID, id) })
	if !ok {
		return nil, false
	}
	return s.Rules[i], true
}

// BuiltinSource returns the text of a built-in rule file ("rules/portscan.yaml").
func BuiltinSource(name string) ([]byte, error) {
	return builtinRules.ReadFile(name)
}

// LoadRules loads the built-in rules and then, in order, the rule files (*.yaml,
// *.yml) of each folder in dirs (a path may also be a single file). In those files
// a document with an id the built-ins do not have adds a rule, one with a
// built-in's id replaces it, and "override: ID" changes a rule's settings. Every
// problem in every file is reported, each with file:line:col, in an ErrorList;
// no rule set is returned then.
func LoadRules(dirs ...string) (*RuleSet, error) {
	var errs ErrorList
	rules := map[string]*Rule{}
	names, err := fs.Glob(builtinRules, "rules/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list built-in rules: %w", err)
	}
	for _, name := range names {
		src, err := builtinRules.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read built-in rule %s: %w", name, err)
		}
		docs, err := parseRuleFile("builtin:"+name, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i := range docs {
			p := &docs[i]
			if p.doc.Override != "" {
				errs = append(errs, p.dec.errAt(p.dec.at("override"), "built-in files hold rules, not overrides"))
				continue
			}
			r, err := p.build(true)
			if err == nil {
				err = checkDetector(r)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if old, dup := rules[r.ID]; dup {
				errs = append(errs, p.dec.errAt(p.dec.at("id"), "rule id %s already used by %s", r.ID, old.Source))
				continue
			}
			rules[r.ID] = r
		}
	}
	for _, dir := range dirs {
		files, err := ruleFiles(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen := map[string]string{}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, fmt.Errorf("read rule file: %w", err))
				continue
			}
			errs = append(errs, applyFile(rules, seen, file, src)...)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	set := &RuleSet{}
	for _, r := range rules {
		set.Rules = append(set.Rules, r)
	}
	slices.SortFunc(set.Rules, func(a, b *Rule) int { return cmp.Compare(a.ID, b.ID) })
	return set, nil
}

// applyFile adds, replaces and overrides rules from one user file. seen maps the
// ids users defined to their file, to catch one id defined twice.
func applyFile(rules map[string]*Rule, seen map[string]string, file string, src []byte) []error {
	docs, err := parseRuleFile(file, src)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for i := range docs {
		p := &docs[i]
		if id := p.doc.Override; id != "" {
			r, ok := rules[id]
			if !ok {
				var ids []string
				for k := range rules {
					ids = append(ids, k)
				}
				slices.Sort(ids)
				msg := fmt.Sprintf("override %s: no such rule", id)
				if s := suggest(id, ids); s != "" {
					msg += fmt.Sprintf("; did you mean %s?", s)
				}
				errs = append(errs, p.dec.errAt(p.dec.at("override"), "%s (see vigil rules list)", msg))
				continue
			}
			c := *r
			c.Overridden = slices.Clone(r.Overridden)
			if err := p.apply(&c); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := c.compileOverride(); err != nil {
				errs = append(errs, err)
				continue
			}
			rules[id] = &c
			continue
		}
		r, err := p.build(false)
		if err == nil {
			err = checkDetector(r)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[r.ID]; dup {
			errs = append(errs, p.dec.errAt(p.dec.at("id"), "rule %s is already defined in %s", r.ID, prev))
			continue
		}
		seen[r.ID] = file
		rules[r.ID] = r
	}
	return errs
}

// compileOverride re-checks a rule whose settings an override changed (window
// versus threshold, detector parameters), with errors in the override's file.
func (r *Rule) compileOverride() error {
	if r.Detector != "" {
		return checkDetector(r)
	}
	if r.Threshold.AtLeast < 0 {
		return r.doc.errAt(r.doc.at("threshold.atLeast"), "threshold.atLeast must not be negative")
	}
	if (r.Threshold.AtLeast > 1 || r.Threshold.Distinct != "" || r.Threshold.Sum != "") && r.Window <= 0 {
		return r.doc.errAt(r.doc.at("window"), "a threshold above 1 needs a window")
	}
	return nil
}

// ruleFiles lists the rule files of a folder (sorted), or the file itself.
func ruleFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if !st.IsDir() {
		return []string{dir}, nil
	}
	var out []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := path.Ext(d.Name()); (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// CheckFile loads one rule file against the built-in rules (so that overrides
// can be checked) and returns the rules it defines or changes, or every problem
// with file:line:col. It backs `vigil rules test FILE`.
func CheckFile(file string) ([]*Rule, error) {
	base, err := LoadRules()
	if err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	rules := map[string]*Rule{}
	for _, r := range base.Rules {
		rules[r.ID] = r
	}
	if errs := applyFile(rules, map[string]string{}, file, src); len(errs) > 0 {
		return nil, ErrorList(errs)
	}
	var out []*Rule
	for _, r := range rules {
		if r.Source == file || slices.Contains(r.Overridden, file) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Rule) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

var errUnknownDetector = errors.New("unknown detector")
