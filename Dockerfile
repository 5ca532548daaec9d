# Airbyte's Python connector convention; installs exactly what the README's `pip install .` does.
FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code

COPY setup.py main.py README.md ./
COPY source_pivotal_tracker ./source_pivotal_tracker
RUN pip install --no-cache-dir .

# The base image's unprivileged user `airbyte`, as Airbyte's own connector images run; by uid,
# so that a platform requiring a non-root user can tell without resolving the name.
USER 1000

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.version=0.1.0
LABEL io.airbyte.name=airbyte/source-pivotal-tracker
