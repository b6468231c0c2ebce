package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/crvnode/crvnode/internal/loadgen"
)

func benchTransferCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("crvload bench transfer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	size := fs.String("size", "256MiB", "file size: bytes, or with a KiB, MiB or GiB suffix")
	modes := fs.String("modes", "relay,direct", "relay (SendFile: A → node → B), direct (one pion data channel A → B)")
	nodeBin := fs.String("node-bin", "", "node binary (default: go build ./cmd/node)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b := loadgen.TransferBench{Modes: strings.Split(*modes, ","), Progress: progressf(stderr)}
	if b.Size, err = parseSize(*size); err != nil {
		return err
	}
	return c.withNode(ctx, *nodeBin, b.Progress, func(bin string) error {
		b.NodeBin = bin
		res, err := loadgen.RunTransferBench(ctx, b)
		if len(res) == 0 {
			return err
		}
		if c.json {
			return errors.Join(err, writeJSON(stdout, struct {
				Config  loadgen.TransferBench    `json:"config"`
				Results []loadgen.TransferResult `json:"results"`
			}{b, res}))
		}
		fmt.Fprintf(stdout, "crvload bench transfer: %s file, loopback\n\n", *size)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode\tseconds\tMiB/s\tnode RSS before\tnode RSS max\tnode RSS growth\tnode CPU s\t")
		var relay, direct float64
		for _, r := range res {
			rss := "\t\t\t\t"
			if r.Mode == loadgen.TransferRelay {
				rss = fmt.Sprintf("%s\t%s\t%s\t%.2f\t", mib(r.NodeRSSBefore), mib(r.NodeRSSMax), mib(r.NodeRSSGrowth), r.NodeCPUSeconds)
				relay = r.MiBps
			} else {
				direct = r.MiBps
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%s\n", r.Mode, r.Seconds, r.MiBps, rss)
		}
		if relay > 0 && direct > 0 {
			fmt.Fprintf(tw, "relay/direct\t\t%s\t\t\t\t\t\n", ratio(relay, direct))
		}
		return errors.Join(err, tw.Flush())
	})
}

// parseSize reads "268435456", "256MiB", "1GiB" or "512KiB".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = rest, m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
