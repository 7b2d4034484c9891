# shellcheck shell=bash
# Docker for the molecule scenarios and the demo: the engine, and the image of their antsle hosts
# and antlets. Source it after lib.sh, do not run it.
#
#   docker_install  docker.io (and debootstrap) from apt when dockerd is missing; apt starts no service
#   docker_up       a Docker daemon that answers: the one already running, or dockerd started here in
#                   the background (this machine kind has no service manager); the iptables FORWARD
#                   policy stays ACCEPT while it runs, so network-namespace tests keep working
#   docker_down     stop the dockerd that docker_up started in this shell, and only that one; undo its
#                   iptables changes (the DOCKER chains, the FORWARD policy, ip_forward).
#   docker_stop_recorded  stop the dockerd any of these scripts started and left running (recorded
#                   in build/docker/dockerd.pid; scripts/docker-daemon.sh down)
#   docker_image [RELEASE...]  the images of the antsle hosts and antlets, one per Debian release the collection
#                   is tested on, with systemd and python3 (no nginx: the role installs it): Debian 12
#                   (bookworm: nginx 1.22) and Debian 13 (trixie: nginx 1.26). Each is
#                   antman/debianN-systemd:<recipe hash>, built from a debootstrap rootfs when that tag
#                   is absent (about a minute each), also tagged :latest; $ANTMAN_DEBIAN12_IMAGE or
#                   $ANTMAN_DEBIAN13_IMAGE, when set, names another image to use instead. Exports both,
#                   and ANTMAN_MOLECULE_IMAGE (the scenarios' default image) as the Debian 12 one
#                   unless it is set. Beside each, antman/debianN-nginx:<recipe hash>: the same with
#                   nginx installed as the role's first task installs it (apt-get install nginx from
#                   the release's mirror), for the scenarios that do not test the installation
#                   (ANTMAN_DEBIAN12_NGINX_IMAGE, ANTMAN_DEBIAN13_NGINX_IMAGE; the overrides above
#                   stand for both). One call at a time builds (a lock under build/docker).
#   docker_prometheus_image  the image of molecule/prometheus's Prometheus server: the Debian 12 image
#                   with Debian's prometheus package (2.42) installed from the mirror,
#                   antman/debian12-prometheus:<recipe hash>, built when that tag is absent (the
#                   package's .deb comes from, and goes to, this machine's apt cache); exports
#                   ANTMAN_PROMETHEUS_IMAGE unless it is set. After docker_image.

DOCKER_STATE="$BUILD/docker"
# Debian release -> the image repository of its antsle hosts (and the variable that overrides it).
declare -A DOCKER_IMAGE_REPO=([bookworm]=antman/debian12-systemd [trixie]=antman/debian13-systemd)
declare -A DOCKER_IMAGE_VARIABLE=([bookworm]=ANTMAN_DEBIAN12_IMAGE [trixie]=ANTMAN_DEBIAN13_IMAGE)
# The same with nginx installed (docker_build_nginx_image).
declare -A DOCKER_NGINX_IMAGE_REPO=([bookworm]=antman/debian12-nginx [trixie]=antman/debian13-nginx)
declare -A DOCKER_NGINX_IMAGE_VARIABLE=([bookworm]=ANTMAN_DEBIAN12_NGINX_IMAGE [trixie]=ANTMAN_DEBIAN13_NGINX_IMAGE)
# What the image holds: systemd as PID 1 for the antsle hosts, python3 for Ansible and the antlets'
# HTTP server, procps and iproute2 for the tests' process and address checks.
DOCKER_IMAGE_PACKAGES=python3,systemd,systemd-sysv,dbus,iproute2,procps
# What the nginx flavour adds: what the role's "Install nginx" task installs on Debian
# (antman_lb_nginx_package, recommends included, as the apt module does by default, and python3-apt,
# which the apt module installs first when it is missing: without package lists it could not).
DOCKER_NGINX_PACKAGES="nginx python3-apt"
# The Prometheus server of molecule/prometheus (the release whose package the issue names: bookworm's
# 2.42); without recommends (prometheus-node-exporter would be a second exporter nobody scrapes).
DOCKER_PROMETHEUS_IMAGE_REPO=antman/debian12-prometheus
DOCKER_PROMETHEUS_PACKAGES=prometheus

docker_install() {
  command -v dockerd >/dev/null && command -v debootstrap >/dev/null && command -v iptables >/dev/null && return 0
  log "apt-get install docker.io debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  # apt would start dockerd through its init script: we start it ourselves, when needed.
  local policy=/usr/sbin/policy-rc.d added_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    added_policy=yes
  fi
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends docker.io debootstrap iptables >/dev/null
  [ "$added_policy" = no ] || rm -f "$policy"
}

# The FORWARD policy and ip_forward as they were before our dockerd, and whether docker's chains
# existed then (only chains it created are removed afterwards).
docker_save_network_state() {
  iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" {print $3}' > "$DOCKER_STATE/forward-policy"
  cat /proc/sys/net/ipv4/ip_forward > "$DOCKER_STATE/ip-forward"
  if iptables -S 2>/dev/null | grep -q '^-N DOCKER'; then echo yes; else echo no; fi > "$DOCKER_STATE/had-chains"
}

docker_up() {
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  docker_install
  mkdir -p "$DOCKER_STATE"
  if [ -f "$DOCKER_STATE/dockerd.pid" ] && kill -0 "$(cat "$DOCKER_STATE/dockerd.pid")" 2>/dev/null; then
    echo "dockerd $(cat "$DOCKER_STATE/dockerd.pid") (started by an earlier run) does not answer; see $DOCKER_STATE/dockerd.log" >&2
    return 1
  fi
  docker_save_network_state
  log "starting dockerd (no Docker daemon answers; log: $DOCKER_STATE/dockerd.log)"
  # --bridge=none: no default docker0 network (every container here is on a network of its own).
  # From /: nothing of the daemon runs in this checkout (scripts/leftovers.sh looks there). Without
  # the descriptors above 2 it would inherit: a run under `flock /work/heavy.lock` would leave the
  # lock held by the daemon for as long as it runs.
  (cd / && for fd in /proc/self/fd/*; do fd="${fd##*/}"; [ "$fd" -le 2 ] || eval "exec $fd>&-"; done
   exec setsid dockerd --bridge=none >"$DOCKER_STATE/dockerd.log" 2>&1 < /dev/null) &
  echo $! > "$DOCKER_STATE/dockerd.pid"
  DOCKER_STARTED_HERE=yes  # not exported: a stage run by test.sh must not stop test.sh's daemon
  local waited=0
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$DOCKER_STATE/dockerd.pid")" 2>/dev/null || [ "$waited" -ge 60 ]; then
      echo "dockerd did not come up; its log:" >&2
      tail -n 20 "$DOCKER_STATE/dockerd.log" >&2
      docker_down
      return 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  # dockerd sets the FORWARD policy to DROP when it turns on ip_forward: anything else routed or
  # bridged through this machine (network-namespace tests) would lose its packets.
  iptables -P FORWARD ACCEPT
  echo "dockerd $(cat "$DOCKER_STATE/dockerd.pid") answers: $(docker version --format 'server {{.Server.Version}}')"
}

docker_down() {
  [ "${DOCKER_STARTED_HERE:-no}" = yes ] || return 0
  DOCKER_STARTED_HERE=no
  docker_stop_recorded
}

docker_stop_recorded() {
  local pidfile="$DOCKER_STATE/dockerd.pid" pid waited=0
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd $pid (started by these scripts)"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 60 ]; do
      sleep 0.5
      waited=$((waited + 1))
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  docker_restore_network_state
  rm -f "$pidfile" "$DOCKER_STATE/forward-policy" "$DOCKER_STATE/ip-forward" "$DOCKER_STATE/had-chains"
}

# Remove what dockerd left in iptables (its chains and the jumps to them) unless they were there
# before, and put the FORWARD policy and ip_forward back.
docker_restore_network_state() {
  local table line chain
  local -a rule
  if [ "$(cat "$DOCKER_STATE/had-chains" 2>/dev/null)" = no ]; then
    for table in nat filter; do
      iptables -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j DOCKER' | grep -vE '^-A DOCKER' |
        while read -r line; do
          read -ra rule <<< "$line"
          iptables -t "$table" -D "${rule[@]:1}" || true
        done
      for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ {print $2}'); do
        iptables -t "$table" -F "$chain"
      done
      for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ {print $2}'); do
        iptables -t "$table" -X "$chain"
      done
    done
  fi
  if [ -s "$DOCKER_STATE/forward-policy" ]; then
    iptables -P FORWARD "$(cat "$DOCKER_STATE/forward-policy")"
  fi
  if [ -s "$DOCKER_STATE/ip-forward" ]; then
    cat "$DOCKER_STATE/ip-forward" > /proc/sys/net/ipv4/ip_forward
  fi
}

# The recipe of a release's image: everything docker_build_image does, so that a change to it gives
# a new tag (and a rebuild).
docker_image_recipe() {
  echo "$1 $DOCKER_IMAGE_PACKAGES"
  declare -f docker_build_image
}

# One caller builds at a time (the demo and stage 52 side by side): a second waits for the first's
# images and finds them built.
docker_image() {  # RELEASE...: bookworm, trixie (none: both)
  local lock status=0
  mkdir -p "$DOCKER_STATE"
  exec {lock}>"$DOCKER_STATE/images.lock"
  flock "$lock"
  docker_image_unlocked "$@" || status=$?
  exec {lock}>&-
  return "$status"
}

docker_image_unlocked() {
  local release variable tag releases=("$@")
  local -A tag_of pid_of
  [ "${#releases[@]}" -gt 0 ] || releases=(bookworm trixie)
  for release in "${releases[@]}"; do
    variable="${DOCKER_IMAGE_VARIABLE[$release]}"
    if [ -n "${!variable:-}" ]; then
      echo "image ($release): ${!variable} ($variable)"
      continue
    fi
    tag="${DOCKER_IMAGE_REPO[$release]}:$(docker_image_recipe "$release" | sha256sum | cut -c1-12)"
    tag_of[$release]="$tag"
    # Missing images are built side by side (each mostly waits for the mirror and dpkg).
    if ! docker image inspect "$tag" >/dev/null 2>&1; then
      docker_build_image "$tag" "$release" &
      pid_of[$release]=$!
    fi
  done
  docker_wait_builds "${pid_of[@]}" || return 1
  for release in "${!tag_of[@]}"; do
    tag="${tag_of[$release]}"
    docker tag "$tag" "${DOCKER_IMAGE_REPO[$release]}:latest"
    export "${DOCKER_IMAGE_VARIABLE[$release]}=$tag"
    echo "image ($release): $tag"
  done
  # The nginx flavours, from the images just named (side by side: each mostly waits for the mirror).
  pid_of=()
  for release in "${releases[@]}"; do
    variable="${DOCKER_IMAGE_VARIABLE[$release]}"
    if [ -z "${tag_of[$release]:-}" ]; then  # an image named by its variable: it stands for both
      export "${DOCKER_NGINX_IMAGE_VARIABLE[$release]}=${!variable}"
      continue
    fi
    tag="${DOCKER_NGINX_IMAGE_REPO[$release]}:$( (echo "${tag_of[$release]} $DOCKER_NGINX_PACKAGES"; declare -f docker_build_nginx_image) |
      sha256sum | cut -c1-12)"
    export "${DOCKER_NGINX_IMAGE_VARIABLE[$release]}=$tag"
    if ! docker image inspect "$tag" >/dev/null 2>&1; then
      docker_build_nginx_image "$tag" "${tag_of[$release]}" &
      pid_of[$release]=$!
    fi
  done
  docker_wait_builds "${pid_of[@]}" || return 1
  for release in "${releases[@]}"; do
    variable="${DOCKER_NGINX_IMAGE_VARIABLE[$release]}"
    [ -z "${tag_of[$release]:-}" ] || docker tag "${!variable}" "${DOCKER_NGINX_IMAGE_REPO[$release]}:latest"
    echo "image ($release, nginx installed): ${!variable}"
  done
  if [ -n "${ANTMAN_DEBIAN12_IMAGE:-}" ]; then
    export ANTMAN_MOLECULE_IMAGE="${ANTMAN_MOLECULE_IMAGE:-$ANTMAN_DEBIAN12_IMAGE}"
  fi
}

# docker_wait_builds PID...: wait for the image builds started in the background; fails if one did.
docker_wait_builds() {
  local pid status=0
  for pid in "$@"; do
    wait "$pid" || status=1
  done
  return "$status"
}

# docker_build_image TAG RELEASE: debootstrap RELEASE (bookworm, trixie) and import it as TAG.
docker_build_image() {
  local tag="$1" release="$2" mirror rootfs started=$SECONDS
  # The machine's own Debian mirror (a contributor's may be another one): never a name in the repo.
  mirror="${ANTMAN_DEBIAN_MIRROR:-$(awk '$1 == "URIs:" {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)}"
  if [ -z "$mirror" ]; then
    echo "no Debian mirror: /etc/apt/sources.list.d/debian.sources has no URIs: line; set ANTMAN_DEBIAN_MIRROR" >&2
    return 1
  fi
  log "building image $tag: debootstrap $release from $mirror"
  mkdir -p "$DOCKER_STATE"
  rootfs="$(mktemp -d "$DOCKER_STATE/rootfs-XXXXXX")"
  if ! debootstrap --variant=minbase --include="$DOCKER_IMAGE_PACKAGES" "$release" "$rootfs" "$mirror" \
      >"$DOCKER_STATE/debootstrap-$release.log" 2>&1; then
    tail -n 20 "$DOCKER_STATE/debootstrap-$release.log" >&2
    rm -rf "$rootfs"
    return 1
  fi
  # A container is not a machine: no consoles to log in on, no udev, no clock to set; and no tmpfs
  # of its own on /tmp (trixie's tmp.mount: an unprivileged container may not mount, and systemd
  # would report itself degraded).
  for unit in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
      systemd-timesyncd.service systemd-logind.service tmp.mount; do
    ln -sfn /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  # Package lists are fetched when nginx is installed (the role does apt-get update).
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  : > "$rootfs/etc/machine-id"
  # container=docker: systemd knows it runs in a container.
  if ! tar -C "$rootfs" -c . | docker import -c 'ENV container=docker' -c 'CMD ["/lib/systemd/systemd"]' - "$tag" >/dev/null; then
    rm -rf "$rootfs"
    return 1
  fi
  rm -rf "$rootfs"
  echo "image $tag built in $((SECONDS - started)) s"
}

# docker_build_nginx_image TAG BASE: BASE with $DOCKER_NGINX_PACKAGES installed as the role's first
# task installs them on a running host (apt-get update, apt-get install from the mirror debootstrap
# wrote into its sources), committed as TAG. nginx is enabled, not started (policy-rc.d): systemd
# starts it when a container boots, as on a host whose nginx already serves something. The package
# lists are removed again, as in BASE.
docker_build_nginx_image() {
  local tag="$1" base="$2" container started=$SECONDS output
  container="antman-image-build-$$-${tag##*:}"
  output="$DOCKER_STATE/nginx-image-$(basename "${tag%%:*}").log"
  log "building image $tag: $base with $DOCKER_NGINX_PACKAGES installed"
  mkdir -p "$DOCKER_STATE"
  if ! docker run --name "$container" --network host "$base" /bin/sh -c "
      set -e
      printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $DOCKER_NGINX_PACKAGES
      rm -f /usr/sbin/policy-rc.d
      rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb" >"$output" 2>&1 ||
    ! docker commit -c 'CMD ["/lib/systemd/systemd"]' "$container" "$tag" >/dev/null; then
    tail -n 20 "$output" >&2
    docker rm -f "$container" >/dev/null 2>&1 || true
    return 1
  fi
  docker rm "$container" >/dev/null
  echo "image $tag built in $((SECONDS - started)) s"
}

docker_prometheus_image() {
  local tag
  if [ -n "${ANTMAN_PROMETHEUS_IMAGE:-}" ]; then
    echo "image (prometheus): $ANTMAN_PROMETHEUS_IMAGE (ANTMAN_PROMETHEUS_IMAGE)"
    return 0
  fi
  tag="$DOCKER_PROMETHEUS_IMAGE_REPO:$( (echo "$ANTMAN_DEBIAN12_IMAGE $DOCKER_PROMETHEUS_PACKAGES"; declare -f docker_build_prometheus_image) |
    sha256sum | cut -c1-12)"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    docker_build_prometheus_image "$tag" "$ANTMAN_DEBIAN12_IMAGE" || return 1
  fi
  docker tag "$tag" "$DOCKER_PROMETHEUS_IMAGE_REPO:latest"
  export ANTMAN_PROMETHEUS_IMAGE="$tag"
  echo "image (prometheus): $tag"
}

# docker_build_prometheus_image TAG BASE: BASE with $DOCKER_PROMETHEUS_PACKAGES installed from the
# mirror debootstrap wrote into its sources, committed as TAG. This machine's apt cache of .debs is
# the container's: the package scripts/setup.sh installed here for promtool (the same bookworm
# package) is not fetched again, and a fetched one stays for the next build. The package lists are
# removed again, as in BASE; nothing is started (the scenario runs the server itself).
docker_build_prometheus_image() {
  local tag="$1" base="$2" container started=$SECONDS output archives=/var/cache/apt/archives
  local -a cache=()
  container="antman-image-build-$$-${tag##*:}"
  output="$DOCKER_STATE/prometheus-image.log"
  log "building image $tag: $base with $DOCKER_PROMETHEUS_PACKAGES installed"
  mkdir -p "$DOCKER_STATE"
  [ -d "$archives" ] && cache=(-v "$archives:$archives")
  if ! docker run --name "$container" --network host "${cache[@]}" "$base" /bin/sh -c "
      set -e
      printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $DOCKER_PROMETHEUS_PACKAGES
      prometheus --version
      rm -f /usr/sbin/policy-rc.d
      rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin" >"$output" 2>&1 ||
    ! docker commit -c 'CMD ["/usr/bin/prometheus"]' "$container" "$tag" >/dev/null; then
    tail -n 20 "$output" >&2
    docker rm -f "$container" >/dev/null 2>&1 || true
    return 1
  fi
  docker rm "$container" >/dev/null
  echo "image $tag built in $((SECONDS - started)) s ($(grep -m1 '^prometheus, version' "$output"))"
}
