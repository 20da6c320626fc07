# pacheck in a container: Debian slim + Debian's Chromium + the static pacheck binary, run as a
# non-root user, `pacheck` as the entrypoint and the report folder as a volume.
#
#   make image                      # builds bin/pacheck, then this image (podman, else docker)
#   podman run --rm -v "$PWD/report:/report" pacheck demo --out /report
#
# BASE is the Debian image to start from. Where no registry is reachable, make one locally:
#   debootstrap --variant=minbase bookworm rootfs http://deb.debian.org/debian
#   tar -C rootfs -c . | podman import - localhost/debian:bookworm-slim
#   make image BASE=localhost/debian:bookworm-slim
ARG BASE=docker.io/library/debian:bookworm-slim
FROM ${BASE}

# Chromium for the unattended SMART sign-ins; fonts so screenshots show text; CA certificates
# for https targets. Nothing else: the binary is static and carries its IG data.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium ca-certificates fonts-liberation \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin pacheck \
 && mkdir -p /report && chown pacheck /report

COPY bin/pacheck /usr/local/bin/pacheck

USER pacheck
WORKDIR /home/pacheck
ENV PACHECK_CHROMIUM=/usr/bin/chromium
VOLUME ["/report"]
ENTRYPOINT ["pacheck"]
CMD ["help"]
