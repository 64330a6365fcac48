package apply

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
)

// Holder is who holds the apply lease: the run's actor, host, process and id, and its
// CI job. Its text form (String) is what the plugin stores, so that another apply can
// tell whether the holder is gone (HolderGone) and `enrolctl unlock` can name it by id.
type Holder struct {
	Actor, Host string
	PID         int
	// PIDNS is the process's PID namespace (Linux: the inode of /proc/self/ns/pid), so
	// that two containers sharing a host name are not taken for one host: each may
	// run its apply as pid 1.
	PIDNS string
	// ID is the run's id (NewRunID), unique per run: the lease's id.
	ID  string
	Job string
}

// String is "root@vm pid 4299 ns 4026531836 run 20261207T011138Z-0123456789abcdef
// https://ci.example/job/7".
func (h Holder) String() string {
	s := fmt.Sprintf("%s@%s pid %d", h.Actor, h.Host, h.PID)
	if h.PIDNS != "" {
		s += " ns " + h.PIDNS
	}
	s += " run " + h.ID
	if h.Job != "" {
		s += " " + h.Job
	}
	return s
}

var holderRE = regexp.MustCompile(`^(.*)@(\S+) pid (\d+)(?: ns (\d+))? run (\S+)(?: (.+))?$`)

// ParseHolder reads a holder's text form; false for one written otherwise (an older
// enrolctl's), which is never taken over.
func ParseHolder(s string) (Holder, bool) {
	m := holderRE.FindStringSubmatch(s)
	if m == nil {
		return Holder{}, false
	}
	pid, err := strconv.Atoi(m[3])
	if err != nil {
		return Holder{}, false
	}
	return Holder{Actor: m[1], Host: m[2], PID: pid, PIDNS: m[4], ID: m[5], Job: m[6]}, true
}

// ThisProcess is the holder for a run of this process.
func ThisProcess(actor, id, job string) Holder {
	host, _ := os.Hostname()
	return Holder{Actor: actor, Host: host, PID: os.Getpid(), PIDNS: pidNamespace(), ID: id, Job: job}
}

// HolderGone says whether h is provably gone: a process of this host and PID namespace
// that is not running, or this process under a run id it does not hold (an earlier
// process with the same pid, or a run of this one that ended). Anything else (another
// host, another namespace, a process that runs, whatever its name) may still hold it.
func HolderGone(h Holder) bool {
	me := ThisProcess("", "", "")
	if h.Host == "" || h.Host != me.Host || h.PIDNS != me.PIDNS || h.PID <= 0 {
		return false
	}
	if h.PID == me.PID {
		heldMu.Lock()
		defer heldMu.Unlock()
		return !held[h.ID]
	}
	return processGone(h.PID)
}

// held are the ids of the leases this process holds now.
var (
	heldMu sync.Mutex
	held   = map[string]bool{}
)

func setHeld(holder string, on bool) {
	h, ok := ParseHolder(holder)
	if !ok {
		return
	}
	heldMu.Lock()
	defer heldMu.Unlock()
	if on {
		held[h.ID] = true
	} else {
		delete(held, h.ID)
	}
}

// pidNamespace is the inode of this process's PID namespace, "" where there is none.
func pidNamespace() string {
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`^pid:\[(\d+)\]$`).FindStringSubmatch(link)
	if m == nil {
		return ""
	}
	return m[1]
}
