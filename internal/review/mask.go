package review

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Masker hides usernames (student numbers are personal data) in text meant for a
// comment. Each username gets one mask for the whole comment, and two usernames never
// share one, so a reviewer can still tell users apart: 21009539 → 2100****39.
type Masker struct {
	masks map[string]string
}

// PlanUsernames lists every username a plan names: in its changes, its unmanaged
// objects and its diagnostics.
func PlanUsernames(p diff.Plan) []string {
	seen := map[string]bool{}
	add := func(u string) {
		if u != "" {
			seen[u] = true
		}
	}
	for _, c := range p.Changes {
		if c.Enrolment != nil {
			add(c.Enrolment.Username)
		}
		if c.Member != nil {
			add(c.Member.Username)
		}
		add(addressUser(c.Address))
	}
	for _, u := range p.Unmanaged {
		add(addressUser(u.Address))
	}
	for _, d := range p.Drift {
		add(d.Username())
		add(addressUser(d.Address))
	}
	// A diagnostic about a user names it in its subject; an unknown user's did-you-mean
	// is another user of the site.
	for _, d := range p.Diagnostics {
		add(d.Subject.User)
		if d.Code == diag.UnknownUser {
			add(d.Suggestion)
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// addressUser is the username at the end of an enrolment or membership address
// ("course/C/enrolment/manual/u", "course/C/group/G/member/u"), or "".
func addressUser(addr string) string {
	for _, sep := range []string{"/member/", "/enrolment/"} {
		if i := strings.LastIndex(addr, sep); i >= 0 {
			rest := addr[i+len(sep):]
			if sep == "/enrolment/" {
				// method/username; the method key has no slash
				_, u, ok := strings.Cut(rest, "/")
				if !ok {
					return ""
				}
				return u
			}
			return rest
		}
	}
	return ""
}

// NewMasker assigns masks to usernames. Masks are assigned in sorted order, so the
// same plan always gives the same masks.
func NewMasker(usernames []string) *Masker {
	sorted := slices.Clone(usernames)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	m := &Masker{masks: make(map[string]string, len(sorted))}
	used := map[string]bool{}
	for _, u := range sorted {
		base := maskOne(u)
		mask := base
		for n := 2; used[mask]; n++ {
			mask = fmt.Sprintf("%s#%d", base, n)
		}
		used[mask] = true
		m.masks[u] = mask
	}
	return m
}

// Mask returns a username's mask, or the text unchanged when it is not a username of
// the plan.
func (m *Masker) Mask(u string) string {
	if v, ok := m.masks[u]; ok {
		return v
	}
	return u
}

// maskOne keeps enough of a username to tell neighbours apart and hides the middle
// with a fixed number of stars, so that the mask does not give the length away:
// 21009539 → 2100****39, dumontj01 → dumo****01, jdoe1 → jd***1, jdoe → j***.
func maskOne(u string) string {
	r := []rune(u)
	n := len(r)
	switch {
	case n >= 8:
		return string(r[:4]) + "****" + string(r[n-2:])
	case n >= 5:
		return string(r[:2]) + "***" + string(r[n-1:])
	case n >= 2:
		return string(r[:1]) + "***"
	}
	return "***"
}

// Markdown masks every username in a markdown document. In code blocks and code spans
// the mask is written as it is; elsewhere its stars are escaped so that markdown does
// not read them as emphasis (HTML lines such as <summary> are left unescaped, since
// markdown is not interpreted there).
func (m *Masker) Markdown(md string) string {
	if len(m.masks) == 0 {
		return md
	}
	lines := strings.Split(md, "\n")
	fence := false
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			fence = !fence
			lines[i] = m.line(line, false) // an info string may hold anything
			continue
		}
		escape := !fence && !strings.HasPrefix(trimmed, "<")
		lines[i] = m.line(line, escape)
	}
	return strings.Join(lines, "\n")
}

// line replaces each whole username token of line; escape asks for \* outside code
// spans.
func (m *Masker) line(line string, escape bool) string {
	var b strings.Builder
	inCode := false
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '`' {
			inCode = !inCode
			b.WriteByte(c)
			i++
			continue
		}
		if !isUserByte(c) {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(line) && isUserByte(line[j]) {
			j++
		}
		b.WriteString(m.token(line[i:j], escape && !inCode))
		i = j
	}
	return b.String()
}

// token masks a run of username characters: the whole run, or the run without the
// punctuation that may end a sentence or join words ("21009539." or "-21009539").
func (m *Masker) token(tok string, escape bool) string {
	core := strings.TrimRight(tok, ".-")
	lead := len(core) - len(strings.TrimLeft(core, ".-"))
	core = core[lead:]
	mask, ok := m.masks[tok]
	if ok {
		return esc(mask, escape)
	}
	if mask, ok = m.masks[core]; ok {
		return tok[:lead] + esc(mask, escape) + tok[lead+len(core):]
	}
	return tok
}

func esc(mask string, escape bool) string {
	if !escape {
		return mask
	}
	return strings.ReplaceAll(mask, "*", `\*`)
}

// isUserByte reports whether c can be part of a Moodle username (lower-case letters,
// digits and _ - . @ by default; upper case is accepted for safety).
func isUserByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == '@'
}

// quoted finds the quoted strings of a diagnostic's message, the way it names users:
// user "21009539".
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// Plan returns a copy of p with every username masked, field by field, before
// anything is rendered: in changes and their addresses, in objects left alone and
// drift, and in diagnostics (quoted usernames, an unknown user's did-you-mean, the source line).
// Masking the rendered markdown instead missed usernames with + ' or accents, and
// suggestions (issue 18).
func (m *Masker) Plan(p diff.Plan) diff.Plan {
	p.Changes = slices.Clone(p.Changes)
	for i := range p.Changes {
		c := &p.Changes[i]
		c.Address = m.address(c.Address)
		c.Enrolment, c.Member = m.enrolment(c.Enrolment), m.member(c.Member)
	}
	p.Unmanaged = slices.Clone(p.Unmanaged)
	for i := range p.Unmanaged {
		u := &p.Unmanaged[i]
		u.Address = m.address(u.Address)
		u.Enrolment = m.enrolment(u.Enrolment)
	}
	p.Drift = slices.Clone(p.Drift)
	for i := range p.Drift {
		d := &p.Drift[i]
		d.Address = m.address(d.Address)
		d.Enrolment, d.Member = m.enrolment(d.Enrolment), m.member(d.Member)
	}
	p.Diagnostics = m.Diagnostics(p.Diagnostics)
	return p
}

// enrolment is a masked copy of e (nil stays nil): the plan's own objects are shared.
func (m *Masker) enrolment(e *state.Enrolment) *state.Enrolment {
	if e == nil {
		return nil
	}
	c := *e
	c.Username = m.Mask(c.Username)
	return &c
}

// member is a masked copy of mb (nil stays nil).
func (m *Masker) member(mb *state.Member) *state.Member {
	if mb == nil {
		return nil
	}
	c := *mb
	c.Username = m.Mask(c.Username)
	return &c
}

// Diagnostics returns ds with the usernames of m masked: quoted in messages, as
// suggestions, and in the source lines.
func (m *Masker) Diagnostics(ds diag.Diagnostics) diag.Diagnostics {
	if len(m.masks) == 0 || len(ds) == 0 {
		return ds
	}
	ds = slices.Clone(ds)
	for i := range ds {
		d := &ds[i]
		d.Message = quoted.ReplaceAllStringFunc(d.Message, func(q string) string {
			if u, err := strconv.Unquote(q); err == nil {
				if mask, ok := m.masks[u]; ok {
					return strconv.Quote(mask)
				}
			}
			return q
		})
		d.Suggestion = m.Mask(d.Suggestion)
		d.Snippet = m.words(d.Snippet)
	}
	return ds
}

// MaskDiagnostics masks the usernames diagnostics name (see PlanUsernames), for the
// job log of a CI job whose site masks usernames.
func MaskDiagnostics(ds diag.Diagnostics) diag.Diagnostics {
	return NewMasker(PlanUsernames(diff.Plan{Diagnostics: ds})).Diagnostics(ds)
}

// address masks the username that ends an enrolment or membership address.
func (m *Masker) address(addr string) string {
	u := addressUser(addr)
	if u == "" {
		return addr
	}
	return addr[:len(addr)-len(u)] + m.Mask(u)
}

// words masks usernames that stand as words in a source line ("- username: 2100953",
// "21009539,student"); the longest first, so that one username inside another is not
// masked in half.
func (m *Masker) words(line string) string {
	if line == "" {
		return line
	}
	users := slices.Collect(maps.Keys(m.masks))
	slices.SortFunc(users, func(a, b string) int { return len(b) - len(a) })
	for _, u := range users {
		if !strings.Contains(line, u) {
			continue
		}
		var b strings.Builder
		rest := line
		for {
			i := strings.Index(rest, u)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			before, after := rest[:i], rest[i+len(u):]
			if wordEdge(before, true) && wordEdge(after, false) {
				b.WriteString(before + m.masks[u])
			} else {
				b.WriteString(before + u)
			}
			rest = after
		}
		line = b.String()
	}
	return line
}

// wordEdge reports whether s ends (before) or starts (after) with something that
// cannot continue a username: nothing, a space, a quote, a comma, a colon.
func wordEdge(s string, before bool) bool {
	if s == "" {
		return true
	}
	c := s[0]
	if before {
		c = s[len(s)-1]
	}
	return strings.IndexByte(" \t\"',:;[]{}()=", c) >= 0
}
