package loadgen

import (
	"context"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/intervalpli"
	"github.com/pion/webrtc/v4"
)

// LoopbackSettings keeps a PeerConnection on the loopback interface over
// UDP/IPv4: benchmarks measure the servers, not the ICE checks of every
// address this machine has, and never leave it.
func LoopbackSettings() *webrtc.SettingEngine {
	se := &webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// defaultAPI is pion as its examples use it: the default codecs and
// interceptors (NACK, RTCP reports, TWCC, stats), on loopback; with
// intervalPLI a receiver also asks senders for a keyframe every 3 s, as
// examples/broadcast does for its publisher.
func defaultAPI(intervalPLI bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		return nil, err
	}
	if intervalPLI {
		pli, err := intervalpli.NewReceiverInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(pli)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(*LoopbackSettings())), nil
}

// describe makes pc's offer (or its answer to the offer it has), sets it,
// and returns it once every candidate is in it: the baseline and the
// direct channel exchange whole descriptions, without trickle.
func describe(ctx context.Context, pc *webrtc.PeerConnection, offer bool) (*webrtc.SessionDescription, error) {
	var d webrtc.SessionDescription
	var err error
	if offer {
		d, err = pc.CreateOffer(nil)
	} else {
		d, err = pc.CreateAnswer(nil)
	}
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return pc.LocalDescription(), nil
}
