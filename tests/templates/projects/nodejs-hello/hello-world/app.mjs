/**
 * Sample Lambda function (as `sam init` writes it for nodejs20.x).
 */
export const lambdaHandler = async (event, context) => {
  return {
    statusCode: 200,
    body: JSON.stringify({ message: 'hello world', path: event.path, runtime: process.env.AWS_EXECUTION_ENV }),
  };
};
