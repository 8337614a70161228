# Sequence Playground as a hosted demo: CPU-only, non-root, hosted limits on.
# Build: docker build -t sequence-playground .    Run: docker run -p 8501:8501 sequence-playground
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SEQCORE_HOSTED=1 \
    STREAMLIT_SERVER_MAX_UPLOAD_SIZE=5 \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 1000 app
WORKDIR /home/app/playground

# Dependencies first, so code changes do not reinstall TensorFlow.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app app.py ./
COPY --chown=app:app pages ./pages
COPY --chown=app:app seqcore ./seqcore
COPY --chown=app:app .streamlit ./.streamlit
# PYTHONDONTWRITEBYTECODE keeps Python from caching bytecode at run time, so compile the app once here: otherwise
# every server and worker start compiles its modules again (about 0.2 s of a new server's first page).
RUN python -m compileall -q app.py pages seqcore

USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health').read() != b'ok')"

# The same start command as the README and the e2e suite.
CMD ["streamlit", "run", "app.py", "--server.port", "8501", "--server.address", "0.0.0.0"]
