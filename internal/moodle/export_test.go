package moodle

import (
	"context"
	"time"
)

// SetPluginVersion makes c talk to the site as to a plugin of version v, as if
// get_site_status had said so: tests of the older contracts' fallbacks.
func SetPluginVersion(c *Client, v int64) { c.pluginVersion.Store(v) }

// EachCourseStateInOneCall reads ids in one get_course_state call (the v1 function:
// no site status read), in the order of the answer.
func EachCourseStateInOneCall(c *Client, ctx context.Context, ids []int64) ([]CourseState, error) {
	out := make([]CourseState, len(ids))
	err := c.EachCourseState(ctx, ids, len(ids), func(i int, cs *CourseState) error { out[i] = *cs; return nil })
	return out, err
}

// SetIdle sets how long c waits for each next piece of an answer.
func SetIdle(c *Client, d time.Duration) { c.idle = d }
