# One image for the server and the workers; the GPU workers get the GPU from compose.
# Base: a CUDA-enabled PyTorch image would be used on GPU hosts; python:3.11-slim + pip's torch
# wheel (which bundles CUDA libraries) works for both.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY client ./client
COPY server ./server
COPY worker ./worker
COPY migrations ./migrations
ARG EXTRAS=all
RUN pip install --no-cache-dir ".[${EXTRAS}]"
ENV LMCLAB_HOME=/var/lib/lmclab
EXPOSE 8000
CMD ["python", "-m", "server", "--host", "0.0.0.0", "--port", "8000"]
