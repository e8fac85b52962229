# gridline on the official Airflow 3 image: the project's locked dependencies on top, source under
# /opt/gridline. dags/ and dbt_project/ are mounted over the copies at run time by docker-compose.yml,
# so a DAG or model change needs no rebuild.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

USER airflow
WORKDIR /opt/gridline

# Dependencies first, from uv.lock exactly (apache-airflow itself is pinned to the image's version there).
COPY --chown=airflow:0 pyproject.toml uv.lock ./
RUN pip install --no-cache-dir uv \
    && uv export --frozen --no-dev --no-hashes --no-emit-project -o /tmp/requirements.txt \
    && uv pip install --no-cache --compile-bytecode --python "$(command -v python)" -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code. gridline finds dbt_project/ beside its package, so it runs from this folder (PYTHONPATH)
# rather than from site-packages.
COPY --chown=airflow:0 gridline ./gridline
COPY --chown=airflow:0 ingestion ./ingestion
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 dags ./dags

ENV PYTHONPATH=/opt/gridline \
    GRIDLINE_HOME=/var/lib/gridline \
    GRIDLINE_LANDING=/var/lib/gridline/landing \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/gridline/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__USAGE_DATA_COLLECTION__ENABLED=False \
    SCARF_ANALYTICS=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DO_NOT_TRACK=1 \
    GX_ANALYTICS_ENABLED=False
