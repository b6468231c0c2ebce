// Command crvload is crvnode's load tool and benchmark harness.
//
//	crvload [run] [flags]        simulated users against a node (-url) or an in-process one (-embedded)
//	crvload bench sfu [flags]    crvnode's SFU against a minimal pion forwarder, each in its own process
//	crvload bench signaling      call setup with 1,000 and 10,000 idle sessions; memory per session
//	crvload bench transfer       relayed file transfer against a direct data channel
//	crvload bench cluster        call setup, presence fan-out, moved meeting entries and transfers on 3 nodes sharing one Redis, against one node
//	crvload soak [flags]         the node's features at random for a long time; goroutines, files and RSS back to idle
//	crvload overload [flags]     a probe user's latency while others flood connections, requests and never read
//	crvload idle [flags]         the node's memory, goroutines and files per idle logged-in browser session
//	crvload baseline-server      the SFU bench's baseline forwarder (the bench starts it itself)
//
// Every command stops cleanly on Ctrl-C: clients are closed, embedded or
// child servers stopped, and what was measured so far is reported. A
// second Ctrl-C exits at once (child servers die with this process).
// Run `crvload <command> -h` for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// mainEnv, when "1", makes a test binary behave as crvload (the SFU bench
// starts the baseline as a child of its own executable).
const mainEnv = "CRVLOAD_MAIN"

func main() {
	os.Exit(realMain(os.Args[1:]))
}

// realMain runs crvload and returns its exit status.
func realMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal gets the default behaviour: exit now
	}()
	err := dispatch(ctx, args, os.Stdout, os.Stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFailures):
		fmt.Fprintln(os.Stderr, "crvload:", err)
		return 1
	default:
		fmt.Fprintln(os.Stderr, "crvload:", err)
		return 2
	}
}

// errFailures is a run that finished but where users failed.
var errFailures = errors.New("some users failed")

// errUsage is a command line crvload does not understand.
var errUsage = errors.New("usage: crvload [run|bench sfu|bench signaling|bench transfer|bench cluster|soak|overload|idle|baseline-server] [flags]")

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || len(args[0]) > 0 && args[0][0] == '-' {
		return runCmd(ctx, args, stdout, stderr)
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "baseline-server":
		return baselineCmd(ctx, args[1:], stderr)
	case "soak":
		return soakCmd(ctx, args[1:], stdout, stderr)
	case "overload":
		return overloadCmd(ctx, args[1:], stdout, stderr)
	case "idle":
		return idleCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		if len(args) < 2 {
			return errUsage
		}
		switch args[1] {
		case "sfu":
			return benchSFUCmd(ctx, args[2:], stdout, stderr)
		case "signaling":
			return benchSignalingCmd(ctx, args[2:], stdout, stderr)
		case "transfer":
			return benchTransferCmd(ctx, args[2:], stdout, stderr)
		case "cluster":
			return benchClusterCmd(ctx, args[2:], stdout, stderr)
		}
	case "help", "-h", "--help":
		fmt.Fprintln(stderr, errUsage)
		return nil
	}
	return errUsage
}
