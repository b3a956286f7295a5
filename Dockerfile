FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY data ./data
# editable: the reference data in /app/data is found next to the package
RUN pip install --no-cache-dir -e .
RUN useradd --system rxhub
USER rxhub
EXPOSE 2575 8080
CMD ["rxhub", "run"]
