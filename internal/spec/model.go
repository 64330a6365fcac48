package spec

import (
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// CourseSpec is one course's spec file, checked but not yet merged with policies.
type CourseSpec struct {
	Shortname string
	File      string
	Pos       diag.Pos // where the course shortname is written

	methods []methodDecl
	manual  *manualDecl // nil: no manual section
	groups  []groupDecl
	// groupsDeclared: the spec has a groups field, so users' groups must be declared.
	groupsDeclared bool
	protect        tree.Bool
	methodsPrune   tree.Bool
}

// Policy is one policy file: methods and defaults applied to every course it selects.
type Policy struct {
	Name string
	File string
	Pos  diag.Pos

	sel          selector
	methods      []methodDecl
	manual       *manualDecl // defaults only, never users
	renew        *renewDecl
	groups       []groupDecl
	protect      tree.Bool
	methodsPrune tree.Bool
}

type selector struct {
	pos       diag.Pos
	category  tree.Str
	shortname tree.Str
	list      []tree.Str
}

// Users is how many users the course's manual section lists.
func (c *CourseSpec) Users() int {
	if c.manual == nil {
		return 0
	}
	return len(c.manual.users)
}

type methodDecl struct {
	m   state.Method
	pos diag.Pos
}

type manualDecl struct {
	pos   diag.Pos
	role  tree.Str
	until date
	from  date
	prune tree.Str
	users []userDecl
}

type userDecl struct {
	username string
	at       spot // where the username is written
	groups   []groupRef
	// more is what few users have written (a role, dates, suspended), nil when none:
	// with it inline a user took 328 bytes, a fifth of the memory of 10,000 specs.
	more *userMore
}

type userMore struct {
	role      tree.Str
	roles     []tree.Str // several roles, kept as Moodle has them
	until     date
	from      date
	suspended tree.Bool
}

// noMore is the userMore of a user who has none.
var noMore userMore

// opts returns what u has written besides its name and groups; all unset when nothing.
func (u *userDecl) opts() *userMore {
	if u.more == nil {
		return &noMore
	}
	return u.more
}

// spot is a line and column in the file of the course spec that holds it: a user's
// position and groups without the file's name took 136 bytes a user rather than 80,
// for 300,000 users.
type spot struct{ line, col int32 }

func spotOf(p diag.Pos) spot { return spot{int32(p.Line), int32(p.Col)} }

// in is the position s in file.
func (s spot) in(file string) diag.Pos {
	return diag.Pos{File: file, Line: int(s.line), Col: int(s.col)}
}

// groupRef is a group a user is put in, and where it is written.
type groupRef struct {
	name string
	at   spot
}

type groupDecl struct {
	name         string
	pos          diag.Pos
	pruneMembers tree.Bool
}

// source is a position as a state.Source.
func source(p diag.Pos) state.Source { return state.Source(p) }
