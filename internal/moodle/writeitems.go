package moodle

import "encoding/json"

// Operation is one operation of local_enrolctl_write (docs/contract.md, Contract v2).
type Operation string

// The operations of local_enrolctl_write, one per item type.
const (
	OpAddInstances    Operation = "add_instances"
	OpUpdateInstances Operation = "update_instances"
	OpDeleteInstances Operation = "delete_instances"
	OpSetEnrolments   Operation = "set_enrolments"
	OpUnenrolUsers    Operation = "unenrol_users"
	OpCreateGroups    Operation = "create_groups"
	OpAddMembers      Operation = "add_members"
	OpRemoveMembers   Operation = "remove_members"
)

// WriteItem is one item of a local_enrolctl_write call. The item's type picks the
// operation, so one call never mixes operations. Only this package's item types
// implement it.
type WriteItem interface {
	Operation() Operation
	Course() int64
}

// AddInstance creates an enrolment instance (add_instances). Re-sending an equivalent
// instance answers its existing id.
type AddInstance struct {
	CourseID       int64
	Enrol          string // manual, self, cohort, meta
	Name           string
	Disabled       bool
	RoleID         int64
	CohortID       int64
	LinkedCourseID int64
	GroupID        int64
	MaxEnrolled    int
}

// UpdateInstance changes an instance (update_instances); nil fields are not sent, so
// Moodle keeps them.
type UpdateInstance struct {
	CourseID    int64
	ID          int64
	Name        *string
	Disabled    *bool
	RoleID      *int64
	GroupID     *int64
	MaxEnrolled *int
}

// DeleteInstance deletes an instance and unenrols its users (delete_instances).
type DeleteInstance struct {
	CourseID int64
	ID       int64
}

// SetEnrolment is the full desired state of one manual or self enrolment
// (set_enrolments): Moodle resets whatever is omitted, so every field is sent.
type SetEnrolment struct {
	CourseID   int64
	InstanceID int64
	UserID     int64
	RoleID     int64
	TimeStart  int64
	TimeEnd    int64
	Suspended  bool
}

// UnenrolUser removes a manual or self enrolment (unenrol_users).
type UnenrolUser struct {
	CourseID   int64
	InstanceID int64
	UserID     int64
}

// CreateGroup creates a group, or answers the existing one of that name (create_groups).
type CreateGroup struct {
	CourseID int64
	Name     string
}

// AddMember adds a manual group membership (add_members).
type AddMember struct {
	CourseID int64
	GroupID  int64
	UserID   int64
}

// RemoveMember removes a manual group membership (remove_members).
type RemoveMember struct {
	CourseID int64
	GroupID  int64
	UserID   int64
}

func (AddInstance) Operation() Operation    { return OpAddInstances }
func (UpdateInstance) Operation() Operation { return OpUpdateInstances }
func (DeleteInstance) Operation() Operation { return OpDeleteInstances }
func (SetEnrolment) Operation() Operation   { return OpSetEnrolments }
func (UnenrolUser) Operation() Operation    { return OpUnenrolUsers }
func (CreateGroup) Operation() Operation    { return OpCreateGroups }
func (AddMember) Operation() Operation      { return OpAddMembers }
func (RemoveMember) Operation() Operation   { return OpRemoveMembers }

func (it AddInstance) Course() int64    { return it.CourseID }
func (it UpdateInstance) Course() int64 { return it.CourseID }
func (it DeleteInstance) Course() int64 { return it.CourseID }
func (it SetEnrolment) Course() int64   { return it.CourseID }
func (it UnenrolUser) Course() int64    { return it.CourseID }
func (it CreateGroup) Course() int64    { return it.CourseID }
func (it AddMember) Course() int64      { return it.CourseID }
func (it RemoveMember) Course() int64   { return it.CourseID }

// The JSON shapes below are the contract's item fields; booleans travel as 0/1.

func (it AddInstance) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CourseID       int64  `json:"courseid"`
		Enrol          string `json:"enrol"`
		Name           string `json:"name"`
		Status         int    `json:"status"`
		RoleID         int64  `json:"roleid"`
		CohortID       int64  `json:"cohortid"`
		LinkedCourseID int64  `json:"linkedcourseid"`
		GroupID        int64  `json:"groupid"`
		MaxEnrolled    int    `json:"maxenrolled"`
	}{it.CourseID, it.Enrol, it.Name, bit(it.Disabled), it.RoleID, it.CohortID, it.LinkedCourseID, it.GroupID, it.MaxEnrolled})
}

func (it UpdateInstance) MarshalJSON() ([]byte, error) {
	var st *int
	if it.Disabled != nil {
		v := bit(*it.Disabled)
		st = &v
	}
	return json.Marshal(struct {
		CourseID    int64   `json:"courseid"`
		ID          int64   `json:"id"`
		Name        *string `json:"name,omitempty"`
		Status      *int    `json:"status,omitempty"`
		RoleID      *int64  `json:"roleid,omitempty"`
		GroupID     *int64  `json:"groupid,omitempty"`
		MaxEnrolled *int    `json:"maxenrolled,omitempty"`
	}{it.CourseID, it.ID, it.Name, st, it.RoleID, it.GroupID, it.MaxEnrolled})
}

func (it DeleteInstance) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CourseID int64 `json:"courseid"`
		ID       int64 `json:"id"`
	}{it.CourseID, it.ID})
}

func (it SetEnrolment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CourseID   int64 `json:"courseid"`
		InstanceID int64 `json:"instanceid"`
		UserID     int64 `json:"userid"`
		RoleID     int64 `json:"roleid"`
		TimeStart  int64 `json:"timestart"`
		TimeEnd    int64 `json:"timeend"`
		Suspended  int   `json:"suspended"`
	}{it.CourseID, it.InstanceID, it.UserID, it.RoleID, it.TimeStart, it.TimeEnd, bit(it.Suspended)})
}

func (it UnenrolUser) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CourseID   int64 `json:"courseid"`
		InstanceID int64 `json:"instanceid"`
		UserID     int64 `json:"userid"`
	}{it.CourseID, it.InstanceID, it.UserID})
}

func (it CreateGroup) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CourseID int64  `json:"courseid"`
		Name     string `json:"name"`
	}{it.CourseID, it.Name})
}

func (it AddMember) MarshalJSON() ([]byte, error) {
	return memberJSON(it.CourseID, it.GroupID, it.UserID)
}
func (it RemoveMember) MarshalJSON() ([]byte, error) {
	return memberJSON(it.CourseID, it.GroupID, it.UserID)
}

func memberJSON(course, group, user int64) ([]byte, error) {
	return json.Marshal(struct {
		CourseID int64 `json:"courseid"`
		GroupID  int64 `json:"groupid"`
		UserID   int64 `json:"userid"`
	}{course, group, user})
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// returnsIDs says whether an operation answers the new ids of a course's items.
func (op Operation) returnsIDs() bool { return op == OpAddInstances || op == OpCreateGroups }
