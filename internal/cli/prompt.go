package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"
)

// errPromptInterrupted ends a command interrupted (Ctrl-C, SIGTERM) while it waited
// for an answer: nothing was done, and the shell's code for SIGINT says so.
var errPromptInterrupted = &exitError{code: exitInterrupted, err: errors.New("interrupted at the confirmation prompt; nothing applied")}

// ask reads one line of answer from the terminal, or returns errPromptInterrupted
// when ctx ends first: a read of the terminal cannot be cancelled, so it is left to
// the process's end. An answer typed as the interrupt arrives is still taken.
func (a *App) ask(ctx context.Context) (string, error) {
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(a.In).ReadString('\n')
		answer <- line
	}()
	select {
	case line := <-answer:
		return line, nil
	case <-ctx.Done():
	}
	select {
	case line := <-answer:
		return line, nil
	case <-time.After(100 * time.Millisecond):
	}
	fmt.Fprintln(a.Out) // after the ^C the terminal echoed on the prompt's line
	return "", errPromptInterrupted
}
