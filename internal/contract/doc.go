// Package contract is the one home of the version numbers of the enrolctl ↔ Moodle
// contract (docs/contract.md): the contract's own number, the local_enrolctl plugin
// versions that brought each function enrolctl calls, and the plugin releases this
// enrolctl works with.
//
// The client (internal/moodle) picks functions by these versions, doctor checks them,
// moodlesim plays the newest plugin, and `enrolctl version` and docs/compatibility.md
// report them. A test keeps Newest equal to moodle/local_enrolctl/version.php.
package contract
