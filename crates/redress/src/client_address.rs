//! Which address a request came from, for per-client limits. Behind a reverse proxy the
//! connection's peer is the proxy; the proxy names the client in `X-Forwarded-For`, which
//! anyone can also send. So the header is believed only from configured proxies, and read
//! from the right: each hop a trusted proxy appended is believed, and the first address not
//! of a trusted proxy is the client. What a client wrote into the header itself is left of
//! that and never read.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses (`10.0.0.7`) or
/// networks (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct TrustedProxies(Vec<IpNet>);

impl TryFrom<Vec<String>> for TrustedProxies {
    type Error = String;

    fn try_from(entries: Vec<String>) -> Result<Self, Self::Error> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "`{entry}` is neither an IP address nor a network such as 10.0.0.0/8"
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl From<TrustedProxies> for Vec<String> {
    fn from(proxies: TrustedProxies) -> Self {
        proxies.0.iter().map(ToString::to_string).collect()
    }
}

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted proxy; then the
    /// rightmost hop of `X-Forwarded-For` not of a trusted proxy, or the leftmost when all
    /// are. A hop that is not an address ends the walk at the proxy that wrote it, so a
    /// malformed header shares its proxy's limit rather than choosing its own.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .flat_map(|value| value.to_str().unwrap_or_default().split(','))
            .collect();
        for hop in hops.into_iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(address) => client = address.to_canonical(),
                Err(_) => break,
            }
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::try_from(entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
            .expect("valid proxies")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                &X_FORWARDED_FOR,
                HeaderValue::from_str(value).expect("header"),
            );
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn the_header_of_a_peer_that_is_no_trusted_proxy_is_ignored() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &headers),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &headers),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_rightmost_hop_not_of_a_trusted_proxy_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.1"]);
        // The client wrote 1.1.1.1 itself; the edge proxy (192.0.2.1) appended the client's
        // real address, the inner proxy (10.0.0.2) the edge's.
        let headers = forwarded(&["1.1.1.1, 198.51.100.7", "192.0.2.1"]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &headers), ip("198.51.100.7"));
        // Every hop trusted: the leftmost is as far as can be seen.
        let headers = forwarded(&["10.1.2.3, 192.0.2.1"]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &headers), ip("10.1.2.3"));
        // No header: the proxy itself.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_malformed_hop_stops_at_the_proxy_that_wrote_it() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["198.51.100.7, not-an-address"]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &headers), ip("10.0.0.2"));
        let headers = forwarded(&["198.51.100.7, [2001:db8::1]:443"]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &headers), ip("10.0.0.2"));
    }

    #[test]
    fn addresses_compare_as_the_same_family_and_ipv6_networks_work() {
        let trusted = proxies(&["127.0.0.1", "fd00::/8"]);
        let headers = forwarded(&["2001:db8::5"]);
        assert_eq!(
            trusted.client(ip("::ffff:127.0.0.1"), &headers),
            ip("2001:db8::5")
        );
        assert_eq!(trusted.client(ip("fd00::9"), &headers), ip("2001:db8::5"));
    }

    #[test]
    fn entries_that_are_no_address_or_network_are_refused_by_name() {
        let refused =
            TrustedProxies::try_from(vec!["10.0.0.0/8".to_owned(), "proxy.internal".to_owned()])
                .expect_err("a host name is refused");
        assert!(refused.contains("`proxy.internal`"), "{refused}");
        assert_eq!(
            Vec::<String>::from(proxies(&[" 10.0.0.7 ", "10.0.0.0/8"])),
            ["10.0.0.7/32", "10.0.0.0/8"]
        );
    }
}
