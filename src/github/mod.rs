//! GitHub's REST API: the one HTTP path (`client/`), and what the run asks of it: owners,
//! packages and their versions (`listing`); a repository's open pull requests and branches
//! (`repository`); every route's path (`routes`); the rate-limit budget left (`budget`).

pub mod budget;
pub mod client;
pub mod listing;
pub mod repository;
pub mod routes;
