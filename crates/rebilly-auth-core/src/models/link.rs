//! `_links`: related resources.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::open_enum;

open_enum!(
    /// What a link points to.
    LinkRel {
        /// The resource itself.
        SelfLink = "self",
        /// The customer the resource belongs to.
        Customer = "customer",
    }
);

/// One related link.
///
/// Its `Debug` hides `href`: a link to an authentication token carries the token's value.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// What the URL points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<LinkRel>,
}

impl Link {
    /// A link of `rel` to `href`.
    pub fn new(rel: LinkRel, href: impl Into<String>) -> Self {
        Self {
            href: Some(href.into()),
            rel: Some(rel),
        }
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("rel", &self.rel)
            .field("href", &super::Present(self.href.is_some()))
            .finish()
    }
}

/// Deserializes `_links`, reading `null` as empty.
pub(crate) fn links_or_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Link>, D::Error> {
    Ok(Option::<Vec<Link>>::deserialize(deserializer)?.unwrap_or_default())
}
