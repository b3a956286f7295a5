FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
# the reference data ships inside the package (hub/data)
RUN pip install --no-cache-dir .
RUN useradd --system rxhub
USER rxhub
EXPOSE 2575 8080
CMD ["rxhub", "run"]
