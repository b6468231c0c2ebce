// Package loadgen is the engine of crvload, crvnode's load tool and
// benchmark harness: simulated users built on package client (Run), the
// SFU bench against a minimal pion forwarder (RunSFUBench, Baseline), the
// signaling bench with thousands of idle sessions (RunSignalingBench) and
// the transfer bench (RunTransferBench). Servers under test run as their
// own processes (Proc) so that their CPU time and memory are measured
// apart from the load, which runs here.
//
// Every receiver of media records through a Receiver: packets, bytes,
// sequence gaps and the latency of synthetic payloads, which carry their
// send time (client.ParseSynthetic). Latencies go into fixed-size
// histograms (Hist), so a long run costs no more memory than a short one.
package loadgen
