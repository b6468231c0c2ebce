package loadgen

import (
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
