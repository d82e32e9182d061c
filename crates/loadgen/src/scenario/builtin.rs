//! The built-in scenarios: the files of `benches/scenarios/`, compiled in so `--scenario NAME`
//! works from any directory. Their errors name the file in the repository.

/// `(name, file in the repository, text)` of every built-in scenario.
const BUILTINS: [(&str, &str, &str); 6] = [
    (
        "dashboard",
        "benches/scenarios/dashboard.toml",
        include_str!("../../../../benches/scenarios/dashboard.toml"),
    ),
    (
        "notifications",
        "benches/scenarios/notifications.toml",
        include_str!("../../../../benches/scenarios/notifications.toml"),
    ),
    (
        "chat",
        "benches/scenarios/chat.toml",
        include_str!("../../../../benches/scenarios/chat.toml"),
    ),
    (
        "game",
        "benches/scenarios/game.toml",
        include_str!("../../../../benches/scenarios/game.toml"),
    ),
    (
        "collaboration",
        "benches/scenarios/collaboration.toml",
        include_str!("../../../../benches/scenarios/collaboration.toml"),
    ),
    (
        "cluster",
        "benches/scenarios/cluster.toml",
        include_str!("../../../../benches/scenarios/cluster.toml"),
    ),
];

/// The file and text of the built-in scenario `name`.
pub(super) fn get(name: &str) -> Option<(&'static str, &'static str)> {
    BUILTINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, file, text)| (file, text))
}

/// Names of the built-in scenarios, in the order they are documented.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(n, _, _)| *n)
}
