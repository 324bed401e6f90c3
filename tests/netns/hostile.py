#!/usr/bin/python3
"""Crafted frames for tests/netns/test_hostile.sh, sent with scapy from a
netns machine's eth0, and listeners that report what got through.

  hostile.py send PROBE [ARG...]   one probe's frames (see PROBES)
  hostile.py udp PORT SECONDS [DST DPORT]
                                   prints each datagram's payload (and
                                   answers FLOW, after sending one to DST)
  hostile.py noarp IP              exit 0 when no ARP reply for IP comes
"""
import socket
import sys

from scapy.all import (ARP, BOOTP, DHCP, ICMP, IP, UDP, Dot1AD, Dot1Q, Ether,
                       conf, get_if_hwaddr, sendp, srp1)
from scapy.contrib.mpls import MPLS

conf.verb = 0
IFACE = "eth0"


def me():
    return get_if_hwaddr(IFACE)


def double_tag(inner):
    return Ether(src=me(), dst="ff:ff:ff:ff:ff:ff") / Dot1AD(vlan=0) / Dot1Q(vlan=0) / inner


def arp_claim(ip, victim):
    """An ARP reply that says ip is at this machine."""
    return ARP(op=2, hwsrc=me(), psrc=ip, hwdst="ff:ff:ff:ff:ff:ff", pdst=victim)


def offer(src, router):
    return (IP(src=src, dst="255.255.255.255") / UDP(sport=1067, dport=68) /
            BOOTP(op=2, yiaddr="172.16.5.99", chaddr=b"\x02" * 6) /
            DHCP(options=[("message-type", "offer"), ("server_id", "172.16.5.1"),
                          ("router", router), ("name_server", router), "end"]))


PROBES = {
    # F2: two VLAN-0 tags around ARP, IPv4 and DHCP
    "arp-qq": lambda gw, victim: double_tag(arp_claim(gw, victim)),
    "spoof-qq": lambda src, dst, gw_mac: (
        Ether(src=me(), dst=gw_mac) / Dot1AD(vlan=0) / Dot1Q(vlan=0) /
        IP(src=src, dst=dst) / UDP(sport=4444, dport=5000) / b"SPOOF-QQ"),
    "dhcp-qq": lambda src: double_tag(offer(src, src)),
    # a single tag, which the kernel takes off before the guard
    "arp-q": lambda gw, victim: (Ether(src=me(), dst="ff:ff:ff:ff:ff:ff") /
                                 Dot1Q(vlan=5) / arp_claim(gw, victim)),
    # an ethertype that carries IPv4 inside
    "mpls": lambda src, dst: (Ether(src=me(), dst="ff:ff:ff:ff:ff:ff", type=0x8847) /
                              MPLS(label=16, s=1) / IP(src=src, dst=dst) / ICMP()),
    # F3: a rogue server answering from another port than 67
    "dhcp-1067": lambda src: Ether(src=me(), dst="ff:ff:ff:ff:ff:ff") / offer(src, src),
    # F13, F7: DISCOVERs naming a client (another machine's MAC), count times
    "discover": lambda chaddr, count: [
        Ether(src=me(), dst="ff:ff:ff:ff:ff:ff") /
        IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
        BOOTP(op=1, xid=i + 1, flags=0x8000,
              chaddr=bytes.fromhex(chaddr.replace(":", "")) + b"\0" * 10) /
        DHCP(options=[("message-type", "discover"), "end"])
        for i in range(int(count))],
    # F1: IPv4 to the fabric's MAC, any source, any destination
    "ip": lambda mac, src, dst, sport, dport, payload: (
        Ether(src=me(), dst=mac) / IP(src=src, dst=dst) /
        UDP(sport=int(sport), dport=int(dport)) / payload.encode()),
    "icmp": lambda mac, src, dst, payload: (
        Ether(src=me(), dst=mac) / IP(src=src, dst=dst) / ICMP() / payload.encode()),
}


def main(argv):
    if argv[1] == "send":
        sendp(PROBES[argv[2]](*argv[3:]), iface=IFACE)
    elif argv[1] == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.bind(("0.0.0.0", int(argv[2])))
        s.settimeout(float(argv[3]))
        if len(argv) > 5:  # opens a flow first: sends FLOW to DST DPORT
            s.sendto(b"FLOW", (argv[4], int(argv[5])))
        print("listening", flush=True)
        try:
            while True:
                data, peer = s.recvfrom(2048)
                print("got %s from %s:%d" % (data[:40], peer[0], peer[1]), flush=True)
                if data == b"FLOW":  # answered: the flow is established
                    s.sendto(b"ACK", peer)
        except socket.timeout:
            pass
    elif argv[1] == "noarp":
        ans = srp1(Ether(src=me(), dst="ff:ff:ff:ff:ff:ff") /
                   ARP(op=1, hwsrc=me(), psrc="0.0.0.0", pdst=argv[2]),
                   iface=IFACE, timeout=1)
        sys.exit(0 if ans is None else 1)

if __name__ == "__main__":
    main(sys.argv)
