"""The GraphQL documents the adapter sends to Dagster (dagster-webserver 1.13 / Dagster+).

Every ``…OrError`` field asks for ``__typename`` and the error's ``message``, so the session can
tell a result from an error (see :meth:`DagsterSession.result`).
"""

from __future__ import annotations

WORKSPACE = """
query TempoxWorkspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation {
            name
            repositories {
              name
              jobs { name description isAssetJob tags { key value } }
              schedules {
                name cronSchedule executionTimezone pipelineName scheduleState { status }
              }
              sensors { name sensorType sensorState { status } targets { pipelineName } }
            }
          }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

ASSET_NODES = """
query TempoxAssetNodes {
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    groupName
    owners { __typename ... on UserAssetOwner { email } ... on TeamAssetOwner { team } }
    tags { key value }
    kinds
    description
    isExecutable
    isMaterializable
    isObservable
    isAutoCreatedStub
    jobNames
    opNames
    internalFreshnessPolicy {
      __typename
      ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds }
      ... on CronFreshnessPolicy { deadlineCron lowerBoundDeltaSeconds timezone }
    }
    repository { name location { name } }
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name description blocking } }
      ... on AssetCheckNeedsMigrationError { message }
    }
  }
}
"""

RUN_FIELDS = """
  runId status jobName
  tags { key value }
  creationTime startTime endTime updateTime
  assetSelection { path }
  stepKeysToExecute
  pipelineSnapshotId
  repositoryOrigin { repositoryName repositoryLocationName }
  stepStats { stepKey status startTime endTime attempts { startTime endTime } }
"""

RUNS = (
    """
query TempoxRuns($filter: RunsFilter, $cursor: String, $limit: Int) {
  runsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs { results { """
    + RUN_FIELDS
    + """ } }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message }
  }
}
"""
)

JOB_SNAPSHOT = """
query TempoxJobSnapshot($snapshotId: String) {
  pipelineSnapshotOrError(snapshotId: $snapshotId) {
    __typename
    ... on PipelineSnapshot {
      solidHandles {
        handleID
        solid {
          definition { name }
          inputs { dependsOn { solid { name } } }
        }
      }
    }
    ... on PipelineSnapshotNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

ERROR_FIELDS = "message className cause { message className }"

RUN_LOGS = (
    """
query TempoxRunLogs($runId: ID!, $afterCursor: String, $limit: Int) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {
      cursor hasMore
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey timestamp error { """
    + ERROR_FIELDS
    + """ } }
        ... on ExecutionStepUpForRetryEvent { stepKey timestamp error { """
    + ERROR_FIELDS
    + """ } }
        ... on RunFailureEvent { message timestamp error { """
    + ERROR_FIELDS
    + """ } }
      }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""
)

ASSETS = """
query TempoxAssets($cursor: String, $limit: Int) {
  assetsOrError(cursor: $cursor, limit: $limit) {
    __typename
    ... on AssetConnection {
      cursor
      nodes { key { path } latestMaterializationTimestamp }
    }
    ... on PythonError { message }
  }
}
"""

METADATA_FIELDS = """
  label __typename
  ... on IntMetadataEntry { intValue intRepr }
  ... on FloatMetadataEntry { floatValue }
  ... on TextMetadataEntry { text }
  ... on JsonMetadataEntry { jsonString }
  ... on BoolMetadataEntry { boolValue }
  ... on TimestampMetadataEntry { timestamp }
  ... on UrlMetadataEntry { url }
  ... on PathMetadataEntry { path }
  ... on MarkdownMetadataEntry { mdStr }
  ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
  ... on TableColumnLineageMetadataEntry {
    lineage { columnName columnDeps { assetKey { path } columnName } }
  }
  ... on AssetMetadataEntry { assetKey { path } }
"""

MATERIALIZATIONS_OF = (
    """
  assetOrError(assetKey: $key_{i}) {
    __typename
    ... on Asset {
      key { path }
      assetMaterializations(afterTimestampMillis: $after, limit: $limit) {
        runId timestamp stepKey partition
        metadataEntries { """
    + METADATA_FIELDS
    + """ }
      }
    }
    ... on AssetNotFoundError { message }
  }
"""
)

MATERIALIZATIONS_PAGE_OF = (
    """
query TempoxOlderMaterializations(
  $key: AssetKeyInput!, $after: String, $before: String, $limit: Int
) {
  assetOrError(assetKey: $key) {
    __typename
    ... on Asset {
      assetMaterializations(
        afterTimestampMillis: $after, beforeTimestampMillis: $before, limit: $limit
      ) {
        runId timestamp stepKey partition
        metadataEntries { """
    + METADATA_FIELDS
    + """ }
      }
    }
    ... on AssetNotFoundError { message }
  }
}
"""
)

CHECK_EXECUTIONS_OF = """
  assetCheckExecutions(
    assetKey: $key_{i}, checkName: $check_{i}, limit: $limit, cursor: $cursor_{i}
  ) {
    id runId status timestamp stepKey partition
    evaluation {
      severity success timestamp description
      metadataEntries { label __typename ... on IntMetadataEntry { intValue }
        ... on FloatMetadataEntry { floatValue } ... on TextMetadataEntry { text }
        ... on BoolMetadataEntry { boolValue } }
    }
  }
"""


def batched(name: str, part: str, count: int, variables: dict[str, str]) -> str:
    """One query asking ``part`` ``count`` times, aliased ``a0``, ``a1`` …: one request for
    many assets instead of one each. ``variables`` declares the shared variables; ``part``
    names its own as ``$key_{i}`` (and, for checks, ``$check_{i}`` and ``$cursor_{i}``)."""
    declared = [f"${k}: {v}" for k, v in variables.items()]
    body = []
    for i in range(count):
        declared.append(f"$key_{i}: AssetKeyInput!")
        if "$check_{i}" in part:
            declared += [f"$check_{i}: String!", f"$cursor_{i}: String"]
        body.append(f"a{i}: " + part.strip().replace("{i}", str(i)))
    return f"query {name}({', '.join(declared)}) {{\n" + "\n".join(body) + "\n}\n"
