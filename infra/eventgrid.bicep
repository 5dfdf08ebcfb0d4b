// The Event Grid subscription that feeds the blob trigger (source: EventGrid): BlobCreated events
// of `.zip` blobs in the submissions container, pushed to the blob extension's webhook
// (`/runtime/webhooks/blobs?functionName=Host.Functions.<name>`) with its system key
// `blobs_extension`.
//
// Deployed by the azd postdeploy hook (tools/postdeploy.ts), not with main.bicep: the key exists
// only once the host runs the deployed code, and Event Grid validates the webhook when the
// subscription is created. The official sample does the same after deployment
// (Azure-Samples/functions-quickstart-typescript-azd-eventgrid-blob, scripts/post-up.sh).

@description('The Function App (AZURE_FUNCTION_APP_NAME).')
param functionAppName string

@description('The storage account\'s system topic (EVENT_GRID_SYSTEM_TOPIC_NAME).')
param systemTopicName string

@description('The storage account holding the submissions and dead-letter containers (AZURE_STORAGE_ACCOUNT_NAME).')
param storageAccountName string

@description('The container zips are dropped into (SUBMISSIONS_CONTAINER).')
param submissionsContainerName string

@description('Where events go that could not be delivered in 24 hours (DEAD_LETTER_CONTAINER).')
param deadLetterContainerName string

@description('The blob-triggered function (BLOB_TRIGGER_FUNCTION_NAME).')
param functionName string = 'submissionBlobTrigger'

resource app 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

// Bicep has no types for Microsoft.Web/sites/host, hence listKeys on its id.
var blobsExtensionKey = listKeys('${app.id}/host/default', '2025-03-01').systemKeys.blobs_extension

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'submission-zips'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${app.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
        // One blob per delivery: a failing zip is retried on its own.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/${submissionsContainerName}/'
      subjectEndsWith: '.zip'
    }
    eventDeliverySchema: 'EventGridSchema'
    // Event Grid's own defaults, stated: retried with backoff for a day, then dead-lettered.
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output subscriptionName string = subscription.name
