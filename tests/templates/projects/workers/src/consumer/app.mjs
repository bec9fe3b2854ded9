export const handler = async (event, context) => {
  for (const record of event.Records) {
    console.info(`SQS-PAYLOAD ${record.body}`);
  }
  return {};
};
