package spec

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/enrolctl/enrolctl/internal/redact"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"
)

// WriteAdditions writes imported enrolments into spec files on disk. A course that has
// a spec in set (loaded with LoadDir, so its File is a path on disk) gets the users
// added to its manual section, or updated when already listed (role, dates and status
// replaced, groups added); a course without one gets a new file where place says
// (import moodle's layout, adopt.Path), or dir/<shortname>.yaml when place is nil.
// Groups the users are put in are added to the course's groups when it declares them.
// It returns the files written, sorted. Comments in YAML files are kept by yaml.v3;
// layout may be normalised.
func WriteAdditions(set *Set, dir string, adds []Addition, place func(course string) string) ([]string, error) {
	byCourse := map[string][]Addition{}
	var courses []string
	for _, a := range adds {
		if _, ok := byCourse[a.Course]; !ok {
			courses = append(courses, a.Course)
		}
		byCourse[a.Course] = append(byCourse[a.Course], a)
	}
	slices.Sort(courses)
	var written []string
	var errs []error
	for _, course := range courses {
		spec, _ := set.Course(course)
		file, src := "", []byte(nil)
		if spec != nil {
			file = spec.File
			b, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			src = b
		} else {
			file = filepath.Join(dir, safeFileName(course)+".yaml")
			if place != nil {
				file = place(course)
			}
			if _, err := os.Stat(file); err == nil {
				errs = append(errs, fmt.Errorf("%s exists but does not declare course %q; not overwriting it", file, course))
				continue
			}
			src = []byte(fmt.Sprintf("course: %s\n", yamlQuote(course)))
		}
		var out []byte
		var err error
		if strings.EqualFold(filepath.Ext(file), ".hcl") {
			out, err = addToHCL(file, src, spec, byCourse[course])
		} else {
			out, err = addToYAML(src, course, spec, byCourse[course])
		}
		if err == nil {
			err = os.MkdirAll(filepath.Dir(file), 0o755)
		}
		if err == nil {
			err = os.WriteFile(file, redact.Bytes(out), 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
			continue
		}
		written = append(written, file)
	}
	slices.Sort(written)
	return written, errors.Join(errs...)
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeFileName(shortname string) string {
	s := strings.Trim(unsafeChars.ReplaceAllString(shortname, "_"), "._")
	if s == "" {
		s = "course"
	}
	return s
}

func yamlQuote(s string) string {
	b, _ := yaml.Marshal(s)
	return strings.TrimSpace(string(b))
}

// specUsers indexes what a spec already says about its users, so that adding n users
// to a spec of m users costs n+m, not n×m.
type specUsers map[string]userDecl

func indexUsers(spec *CourseSpec) specUsers {
	out := specUsers{}
	if spec == nil || spec.manual == nil {
		return out
	}
	for _, u := range spec.manual.users {
		out[u.username] = u
	}
	return out
}

// mergedGroups is the user's existing groups plus the imported ones.
func (known specUsers) mergedGroups(a Addition) []string {
	var out []string
	if u, ok := known[a.Username]; ok {
		for _, g := range u.groups {
			out = append(out, g.name)
		}
	}
	for _, g := range a.Groups {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// undeclaredGroups lists the groups the additions use that a spec declaring its groups
// lacks.
func undeclaredGroups(spec *CourseSpec, adds []Addition) []string {
	if spec == nil || !spec.groupsDeclared {
		return nil
	}
	var out []string
	for _, a := range adds {
		for _, g := range a.Groups {
			if !slices.ContainsFunc(spec.groups, func(d groupDecl) bool { return d.name == g }) && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func mapGet(m *yaml.Node, key string) (int, *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i, m.Content[i+1]
		}
	}
	return -1, nil
}

func mapSet(m *yaml.Node, key string, v *yaml.Node) {
	if i, _ := mapGet(m, key); i >= 0 {
		m.Content[i+1] = v
		return
	}
	m.Content = append(m.Content, str(key), v)
}

func mapDelete(m *yaml.Node, key string) {
	if i, _ := mapGet(m, key); i >= 0 {
		m.Content = slices.Delete(m.Content, i, i+2)
	}
}

func addToYAML(src []byte, course string, spec *CourseSpec, adds []Addition) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	var root *yaml.Node
	for {
		var d yaml.Node
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		docs = append(docs, &d)
		if len(d.Content) == 1 && d.Content[0].Kind == yaml.MappingNode {
			if _, c := mapGet(d.Content[0], "course"); c != nil && c.Value == course {
				root = d.Content[0]
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no document declares course %q", course)
	}
	_, manual := mapGet(root, "manual")
	if manual == nil || manual.Kind != yaml.MappingNode {
		manual = &yaml.Node{Kind: yaml.MappingNode}
		mapSet(root, "manual", manual)
	}
	_, users := mapGet(manual, "users")
	if users == nil || users.Kind != yaml.SequenceNode {
		users = &yaml.Node{Kind: yaml.SequenceNode}
		mapSet(manual, "users", users)
	}
	known := indexUsers(spec)
	at := map[string]int{} // username -> index in users.Content (the last one wins)
	for i, it := range users.Content {
		if it.Kind == yaml.ScalarNode {
			at[it.Value] = i
		} else if _, u := mapGet(it, "username"); it.Kind == yaml.MappingNode && u != nil {
			at[u.Value] = i
		}
	}
	for _, a := range adds {
		idx := -1
		var entry *yaml.Node
		if i, ok := at[a.Username]; ok {
			idx, entry = i, users.Content[i]
		}
		if entry == nil || entry.Kind != yaml.MappingNode {
			entry = &yaml.Node{Kind: yaml.MappingNode}
			mapSet(entry, "username", str(a.Username))
		}
		set := func(key, v, tag string) {
			if v != "" { // else keep what the spec says
				mapSet(entry, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v})
			}
		}
		set("role", a.Role, "!!str")
		set("from", a.From, "!!timestamp") // written plain, as people write dates
		if a.Until == "never" {
			set("until", a.Until, "!!str")
		} else {
			set("until", a.Until, "!!timestamp")
		}
		if a.Suspended {
			mapSet(entry, "suspended", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		} else {
			mapDelete(entry, "suspended")
		}
		if gs := known.mergedGroups(a); len(gs) > 0 {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, g := range gs {
				seq.Content = append(seq.Content, str(g))
			}
			mapSet(entry, "groups", seq)
		}
		if len(entry.Content) == 2 { // username only: the short form
			entry = str(a.Username)
		}
		if idx >= 0 {
			users.Content[idx] = entry
		} else {
			at[a.Username] = len(users.Content)
			users.Content = append(users.Content, entry)
		}
	}
	if missing := undeclaredGroups(spec, adds); len(missing) > 0 {
		_, groups := mapGet(root, "groups")
		if groups == nil || groups.Kind != yaml.SequenceNode {
			groups = &yaml.Node{Kind: yaml.SequenceNode}
			mapSet(root, "groups", groups)
		}
		for _, g := range missing {
			groups.Content = append(groups.Content, str(g))
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func addToHCL(file string, src []byte, spec *CourseSpec, adds []Addition) ([]byte, error) {
	f, diags := hclwrite.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	cb := f.Body().FirstMatchingBlock("course", []string{spec.Shortname})
	if cb == nil {
		return nil, fmt.Errorf("no course %q block", spec.Shortname)
	}
	cb = reopen(f.Body(), cb)
	manual := cb.Body().FirstMatchingBlock("manual", nil)
	if manual != nil {
		manual = reopen(cb.Body(), manual)
	}
	if manual == nil {
		manual = cb.Body().AppendNewBlock("manual", nil)
	}
	known := indexUsers(spec)
	blocks := map[string]*hclwrite.Block{}
	for _, b := range manual.Body().Blocks() {
		if b.Type() == "user" && len(b.Labels()) == 1 {
			if _, dup := blocks[b.Labels()[0]]; !dup {
				blocks[b.Labels()[0]] = b
			}
		}
	}
	for _, a := range adds {
		ub := blocks[a.Username]
		if ub != nil {
			ub = reopen(manual.Body(), ub)
		} else {
			ub = manual.Body().AppendNewBlock("user", []string{a.Username})
		}
		blocks[a.Username] = ub
		body := ub.Body()
		for _, kv := range [][2]string{{"role", a.Role}, {"from", a.From}, {"until", a.Until}} {
			if kv[1] != "" {
				body.SetAttributeValue(kv[0], cty.StringVal(kv[1]))
			}
		}
		if a.Suspended {
			body.SetAttributeValue("suspended", cty.True)
		} else {
			body.RemoveAttribute("suspended")
		}
		if gs := known.mergedGroups(a); len(gs) > 0 {
			vals := make([]cty.Value, len(gs))
			for i, g := range gs {
				vals[i] = cty.StringVal(g)
			}
			body.SetAttributeValue("groups", cty.ListVal(vals))
		}
	}
	for _, g := range undeclaredGroups(spec, adds) {
		if cb.Body().GetAttribute("groups") != nil {
			return nil, fmt.Errorf("course %q lists its groups in a groups attribute; add group %q to it by hand", spec.Shortname, g)
		}
		cb.Body().AppendNewBlock("group", []string{g})
	}
	return hclwrite.Format(f.Bytes()), nil
}

// reopen replaces an empty block, which may be written on one line (manual {}) where
// hclwrite cannot add content, by a fresh multi-line one with the same type and labels.
func reopen(parent *hclwrite.Body, b *hclwrite.Block) *hclwrite.Block {
	if len(b.Body().Attributes()) > 0 || len(b.Body().Blocks()) > 0 {
		return b
	}
	parent.RemoveBlock(b)
	return parent.AppendNewBlock(b.Type(), b.Labels())
}
