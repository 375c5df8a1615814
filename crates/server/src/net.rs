//! Where a request came from: the peer address, or the client address a trusted proxy
//! reports in `X-Forwarded-For` (never an address an untrusted peer claims).

use std::net::IpAddr;
use std::str::FromStr;

/// An address block, `10.0.0.0/8` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    base: IpAddr,
    prefix: u8,
}

impl IpBlock {
    /// Whether `ip` lies in the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(base) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(base) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for IpBlock {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let base = canonical(addr.parse::<IpAddr>().map_err(|_| format!("`{s}` is not an IP address or CIDR block"))?);
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("`{s}`: the prefix length must be 0–{max}"))?,
        };
        Ok(Self { base, prefix })
    }
}

/// The client's address: walking `X-Forwarded-For` from the right, the first hop that is
/// not a trusted proxy; the peer itself when the peer is not trusted.
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: &[&str], trusted: &[IpBlock]) -> Option<IpAddr> {
    let peer = canonical(peer?);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|b| b.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    // Several headers are one list, in order; each header a comma-separated list.
    for hop in forwarded_for.iter().rev().flat_map(|h| h.rsplit(',')) {
        let Ok(ip) = hop.trim().parse::<IpAddr>().map(canonical) else {
            // A malformed entry ends what can be believed: the last good hop stands.
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_match() {
        let b: IpBlock = "10.1.0.0/16".parse().unwrap();
        assert!(b.contains(ip("10.1.200.3")));
        assert!(!b.contains(ip("10.2.0.1")));
        assert!(b.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped IPv6 counts as IPv4");
        let one: IpBlock = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        assert!("0.0.0.0/0".parse::<IpBlock>().unwrap().contains(ip("8.8.8.8")));
        assert!("10.0.0.0/33".parse::<IpBlock>().is_err());
        assert!("proxy.local".parse::<IpBlock>().is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpBlock> = vec!["10.0.0.0/8".parse().unwrap()];
        // An untrusted peer's header is ignored: it could say anything.
        assert_eq!(client_ip(Some(ip("203.0.113.5")), &["1.2.3.4"], &trusted), Some(ip("203.0.113.5")));
        // Through one trusted proxy: the address it saw.
        assert_eq!(client_ip(Some(ip("10.0.0.2")), &["198.51.100.7"], &trusted), Some(ip("198.51.100.7")));
        // A client that forges a first hop does not get past the proxy's own entry.
        assert_eq!(client_ip(Some(ip("10.0.0.2")), &["1.2.3.4, 198.51.100.7, 10.0.0.3"], &trusted), Some(ip("198.51.100.7")));
        // Several headers form one list.
        assert_eq!(client_ip(Some(ip("10.0.0.2")), &["1.2.3.4", "198.51.100.8"], &trusted), Some(ip("198.51.100.8")));
        // Garbage stops the walk at the last believable hop.
        assert_eq!(client_ip(Some(ip("10.0.0.2")), &["junk"], &trusted), Some(ip("10.0.0.2")));
        // No trusted proxies: always the peer.
        assert_eq!(client_ip(Some(ip("10.0.0.2")), &["1.2.3.4"], &[]), Some(ip("10.0.0.2")));
    }
}
