# The enrolctl container image, built by GoReleaser (.goreleaser.yaml, dockers_v2) in
# the release workflow from the static release binary; not a build from source.
#
# Base: distroless static (CA certificates for HTTPS to Moodle, time zone data for
# freeze windows, nothing else) in its :debug variant, whose busybox shell is what lets
# the image serve as a GitLab CI `image:` or a GitHub Actions `container:`: both run the
# job's script with sh.
FROM gcr.io/distroless/static-debian12:debug
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/enrolctl /usr/local/bin/enrolctl
ENTRYPOINT ["/usr/local/bin/enrolctl"]
