#!/usr/bin/env bash
# Regenerate CHANGELOG.md and changelogs/changelog.yaml from changelogs/fragments/ and the modules'
# version_added, for the version in galaxy.yml. Run it after adding a fragment or a module, and
# commit the result.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/gates.sh"
"$ROOT/scripts/setup.sh" >/dev/null
cd "$ROOT" || exit 1
release_changelog
rm -f changelogs/.plugin-cache.yaml
